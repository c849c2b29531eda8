/*
 * mm-cmu-size32.c - mm-cmu.c with the classic 64-bit bug: malloc keeps its
 * size in 32 bits, so a giant request gets a small block. The giant-trace
 * tests (tests/test_peer.py) require mdriver to catch it.
 */
#define mm_malloc cmu_malloc
#include "mm-cmu.c"
#undef mm_malloc

void *mm_malloc(size_t size);

void *mm_malloc(size_t size)
{
    return cmu_malloc((uint32_t)size);
}
