/*
 * runner.c - runs one program and measures it for tools/bench_libmm.py.
 *
 *     runner RESULT_FILE [-p LIBRARY] -- PROGRAM [ARG...]
 *
 * Forks, sets LD_PRELOAD=LIBRARY in the child only (none: the C library's
 * malloc), runs PROGRAM there (found in PATH) with the runner's stdin,
 * stdout and stderr, waits for it, and writes one line to RESULT_FILE:
 *     wall=SECONDS cpu=SECONDS maxrss_kib=N status=N
 * wall from fork to exit; cpu the user+sys time of the program and of the
 * processes it waited for; maxrss_kib wait4's ru_maxrss, the peak RSS of
 * the largest of them; status its exit status (128 + N: killed by signal
 * N; 127: it could not be run). Why a runner: a child forked by the
 * Python script inherits the script's own RSS as the start of its
 * ru_maxrss (exec keeps the high-water mark), which would floor every
 * figure at ~20 MiB; this runner is small.
 * Exit status 0, or 2 on bad usage or when RESULT_FILE cannot be written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(void)
{
    fprintf(stderr, "usage: runner RESULT_FILE [-p LIBRARY] -- PROGRAM "
                    "[ARG...]\n");
    return 2;
}

static void run_child(const char *lib, char **argv)
{
    if (lib != NULL)
        setenv("LD_PRELOAD", lib, 1);
    else
        unsetenv("LD_PRELOAD");
    execvp(argv[0], argv);
    fprintf(stderr, "runner: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int exit_status(int status)
{
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
    const char *lib = NULL;
    int first = 2;
    if (argc > 3 && strcmp(argv[2], "-p") == 0) {
        lib = argv[3];
        first = 4;
    }
    if (argc < first + 2 || strcmp(argv[first], "--") != 0)
        return usage();
    FILE *out = fopen(argv[1], "w");
    if (out == NULL) {
        fprintf(stderr, "runner: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    double start = now();
    pid_t pid = fork();
    if (pid == 0)
        run_child(lib, argv + first + 1);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
        fprintf(stderr, "runner: %s\n", strerror(errno));
        status = 127 << 8;
    }
    fprintf(out, "wall=%.6f cpu=%.6f maxrss_kib=%ld status=%d\n", now() - start,
            seconds(ru.ru_utime) + seconds(ru.ru_stime), ru.ru_maxrss,
            exit_status(status));
    return fclose(out) == 0 ? 0 : 2;
}
