/*
 * mm.h - the interface every allocator in the lab implements.
 *
 * mdriver calls mm_init() before each replay of a trace, then the
 * operations of the trace, then mm_checkheap() as often as -d asks.
 * Every pointer returned must be 16-byte aligned and lie inside the
 * simulated heap of memlib.h.
 */
#ifndef MM_H
#define MM_H

#include <stdbool.h>
#include <stddef.h>

/* Prepares a fresh heap. Returns true on success, false on error. */
bool mm_init(void);

void *mm_malloc(size_t size);
void mm_free(void *ptr);
void *mm_realloc(void *ptr, size_t size);
void *mm_calloc(size_t nmemb, size_t size);

/*
 * Checks the heap's invariants. Prints nothing and returns true when the
 * heap is consistent; otherwise prints one line per violation naming the
 * caller's `line`, the invariant and the address, and returns false.
 */
bool mm_checkheap(int line);

#endif /* MM_H */
