/* Cheat: realloc copies through a buffer from the C library's malloc. */
#include <stdlib.h>
#define mm_realloc ff_realloc
/*@ALLOCATOR@*/
#undef mm_realloc

void *mm_realloc(void *ptr, size_t size)
{
    if (ptr == NULL || size == 0)
        return ff_realloc(ptr, size);
    void *tmp = malloc(size);
    if (tmp == NULL)
        return NULL;
    void *q = ff_realloc(ptr, size);
    free(tmp);
    return q;
}
