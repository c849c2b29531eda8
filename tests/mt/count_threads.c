/*
 * count_threads.c - an LD_PRELOAD library for tests/test_driver_mt.py:
 * every pthread_create of the process (and of its forked children)
 * appends one line, "create", to the file named by $COUNT_THREADS_FILE,
 * then creates the thread as usual. The test counts the threads mdriver
 * starts for a trace (its timed replays: one pool per trace, not one per
 * replay; docs/driver.md, "Threads (-T)").
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef int create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                      void *);

/* One line per call: a single write with O_APPEND, so that the lines of
 * the driver's threads and processes never mix. */
static void note_create(void)
{
    static const char LINE[] = "create\n";
    const char *path = getenv("COUNT_THREADS_FILE");
    int fd =
        path != NULL ? open(path, O_WRONLY | O_APPEND | O_CREAT, 0600) : -1;
    if (fd < 0)
        return;
    if (write(fd, LINE, sizeof LINE - 1) < 0)
        _exit(99);
    close(fd);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                   void *(*start)(void *), void *arg)
{
    create_fn *real = (create_fn *)dlsym(RTLD_NEXT, "pthread_create");
    if (real == NULL)
        abort();
    note_create();
    return real(thread, attr, start, arg);
}
