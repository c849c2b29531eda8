/*
 * pastbrk.c - malloc peeks at the byte just past the break (as an
 * allocator that reads "the next block's header" past the epilogue would)
 * and branches on it. Harmless natively when that byte shares a page with
 * the heap's last byte; Valgrind reports an invalid read, since memlib
 * marks every byte past the break off limits, even inside the last page.
 */
#include "base.h"

static volatile int sightings;

void *mm_malloc(size_t size)
{
    char *p = base_malloc(size);
    const char *past = (const char *)mem_heap_hi() + 1;
    if (p != NULL && (uintptr_t)past % mem_pagesize() != 0 &&
        *(const volatile char *)past == 0x5a)
        sightings++;
    return p;
}
