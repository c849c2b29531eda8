/*
 * memlib_os.h - what libmm/memlib_os.c adds to memlib.h for
 * libmm/preload.c: its lock, for the fork handlers (taken after mm.c's
 * arena locks, released before them; the child re-initializes it).
 */
#ifndef MEMLIB_OS_H
#define MEMLIB_OS_H

void mem_os_lock(void);
void mem_os_unlock(void);
void mem_os_reset_lock(void);

#endif /* MEMLIB_OS_H */
