/*
 * hardened.c - bad pointers given to free and realloc under
 * build/libmm.so: each must abort (SIGABRT) with exactly one line on
 * stderr, `mm: free(): invalid pointer 0x...: why` (realloc(): for
 * realloc), naming the pointer this program printed first.
 *
 * Usage: hardened CASE
 *   double_free        a block of 1000 bytes freed twice
 *   double_free_small  a block of 24 bytes (cached when freed) freed twice
 *   stack              a pointer to the stack
 *   static             a pointer to static data
 *   mmap               a page of mmap, not from the heap
 *   misaligned         a block's pointer + 8
 *   interior           a 16-aligned pointer inside a live block
 *   corrupt_header     a block whose header was overwritten
 *   corrupt_size       a block whose size grew by 16 (the next block's
 *                      P bit then disagrees)
 *   realloc_freed      realloc of a freed block
 * Prints `pointer 0x...` (the bad pointer) on stdout before the call; a
 * return from the call prints `not caught` and exits 1.
 */
#include "check.h"

#include <sys/mman.h>

static char static_data[64] __attribute__((aligned(16)));

/* Announces the bad pointer, frees it first if `twice` (nothing may be
 * allocated in between: the freed block could be handed out again, and
 * then be valid), then frees (or reallocs) it. */
static void bad_call(void *p, bool twice, bool use_realloc)
{
    printf("pointer %p\n", p);
    fflush(stdout);
    if (twice)
        free(p);
    if (use_realloc)
        p = realloc(p, 100);
    else
        free(p);
    printf("not caught\n");
    exit(1);
}

static unsigned char *block(size_t n)
{
    unsigned char *p = malloc(n);
    memset(p, 0, n);
    return p;
}

/* The header word before a block's payload. */
static uint64_t *header_of(void *p)
{
    return (uint64_t *)p - 1;
}

int main(int argc, char **argv)
{
    const char *name = argc == 2 ? argv[1] : "";
    report_allocator();
    unsigned char *a = block(1000), *b = block(1000), *small = block(24);
    char local[64] __attribute__((aligned(16))) = {0};
    if (strcmp(name, "double_free") == 0) {
        bad_call(a, true, false);
    } else if (strcmp(name, "double_free_small") == 0) {
        bad_call(small, true, false);
    } else if (strcmp(name, "stack") == 0) {
        bad_call(local + 16, false, false);
    } else if (strcmp(name, "static") == 0) {
        bad_call(static_data + 16, false, false);
    } else if (strcmp(name, "mmap") == 0) {
        char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        bad_call(m + 16, false, false);
    } else if (strcmp(name, "misaligned") == 0) {
        bad_call(a + 8, false, false);
    } else if (strcmp(name, "interior") == 0) {
        bad_call(a + 32, false, false);
    } else if (strcmp(name, "corrupt_header") == 0) {
        *header_of(a) = 0x4141414141414141u;
        bad_call(a, false, false);
    } else if (strcmp(name, "corrupt_size") == 0) {
        *header_of(a) += 16; /* a's size, in the bits above 4 */
        bad_call(a, false, false);
    } else if (strcmp(name, "realloc_freed") == 0) {
        bad_call(b, true, true);
    }
    fprintf(stderr, "usage: hardened CASE (see the source)\n");
    return 2;
}
