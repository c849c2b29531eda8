/* Cheat: empties the heap (mem_reset_brk) and starts again whenever the
 * last live block is freed, so that the final heap is small. */
#define mm_init    ff_init
#define mm_malloc  ff_malloc
#define mm_free    ff_free
#define mm_realloc ff_realloc
#define mm_calloc  ff_calloc
/*@ALLOCATOR@*/
#undef mm_init
#undef mm_malloc
#undef mm_free
#undef mm_realloc
#undef mm_calloc

static long live_blocks;

bool mm_init(void)
{
    live_blocks = 0;
    return ff_init();
}

void *mm_malloc(size_t size)
{
    void *p = ff_malloc(size);
    live_blocks += p != NULL;
    return p;
}

void *mm_calloc(size_t nmemb, size_t size)
{
    void *p = ff_calloc(nmemb, size);
    live_blocks += p != NULL;
    return p;
}

void mm_free(void *ptr)
{
    if (ptr == NULL)
        return;
    ff_free(ptr);
    if (--live_blocks == 0) {
        mem_reset_brk();
        ff_init();
    }
}

void *mm_realloc(void *ptr, size_t size)
{
    void *q = ff_realloc(ptr, size);
    live_blocks += (ptr == NULL && q != NULL) - (ptr != NULL && size == 0);
    return q;
}
