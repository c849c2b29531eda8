/*
 * mixing.c - glibc's heap must never mix with build/libmm.so's: every
 * other name under which glibc hands out or frees blocks (cfree,
 * __libc_malloc and the rest, found by calling them: see docs/libmm.md)
 * and the libc calls that allocate inside libc (strdup, asprintf,
 * open_memstream, getline, qsort, regcomp, scandir, glob, getpwuid,
 * setlocale, dlopen, fopen) take their blocks from the one heap, and give
 * them back with free. At the end, glibc's own mallinfo2 (from libc.so.6
 * itself) must show that glibc's heap was never used.
 *
 * Usage: mixing   (under LD_PRELOAD=build/libmm.so; exits 1 on a failure)
 */
#include "check.h"

#include <glob.h>
#include <locale.h>
#include <malloc.h>
#include <pwd.h>
#include <regex.h>
#include <unistd.h>

#include <dirent.h>

typedef void *alloc_fn(size_t);
typedef void free_fn(void *);

static void *symbol(const char *name)
{
    void *f = dlsym(RTLD_DEFAULT, name);
    check(f != NULL, name);
    return f;
}

/* The other names: each block goes back through free (or the other way). */
static void other_names(void)
{
    alloc_fn *m = (alloc_fn *)symbol("__libc_malloc");
    free_fn *f = (free_fn *)symbol("__libc_free");
    free_fn *cf = (free_fn *)symbol("cfree");
    void *(*c)(size_t, size_t) = symbol("__libc_calloc");
    void *(*r)(void *, size_t) = symbol("__libc_realloc");
    void *(*ma)(size_t, size_t) = symbol("__libc_memalign");
    alloc_fn *v = (alloc_fn *)symbol("__libc_valloc");
    alloc_fn *pv = (alloc_fn *)symbol("__libc_pvalloc");
    if (m && f && c && r && ma && v && pv) {
        free(m(100)); /* glibc's __libc_malloc: free aborts, not inside */
        f(malloc(100));
        free(c(10, 10));
        free(r(malloc(10), 1000));
        free(ma(256, 100));
        free(v(100));
        free(pv(100));
    }
    if (cf != NULL)
        cf(malloc(100));
}

static int compare_ints(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* libc's own allocations, freed by the program or by libc. */
static void libc_inside(void)
{
    free(strdup("a string"));
    char *s = NULL;
    check(asprintf(&s, "%0*d", 5000, 7) > 0, "asprintf");
    free(s);
    size_t len = 0;
    FILE *mem = open_memstream(&s, &len);
    for (int i = 0; i < 10000; i++)
        fprintf(mem, "line %d\n", i);
    fclose(mem);
    FILE *in = fmemopen(s, len, "r");
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, in) > 0)
        ;
    fclose(in);
    free(line);
    free(s);
    enum { N = 1 << 20 };
    int *v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++)
        v[i] = (int)((long)i * 7919 % N);
    qsort(v, N, sizeof *v, compare_ints); /* a temporary buffer */
    free(v);
}

static void libc_inside_more(void)
{
    regex_t re;
    check(regcomp(&re, "(a|b)*c[0-9]+", REG_EXTENDED) == 0, "regcomp");
    regfree(&re);
    struct dirent **names;
    int n = scandir("/", &names, NULL, alphasort);
    for (int i = 0; i < n; i++)
        free(names[i]);
    if (n >= 0)
        free(names);
    glob_t g;
    if (glob("/usr/*", 0, NULL, &g) == 0)
        globfree(&g);
    check(getpwuid(getuid()) != NULL || true, "getpwuid");
    setlocale(LC_ALL, "C.UTF-8");
    void *h = dlopen("libm.so.6", RTLD_NOW);
    check(h != NULL, "dlopen");
    if (h != NULL)
        dlclose(h);
    FILE *f = fopen("/proc/self/maps", "r");
    if (f != NULL)
        fclose(f);
}

/* glibc's heap, by glibc's mallinfo2: never used. */
static void glibc_heap_unused(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    struct mallinfo2 (*mi)(void) = libc ? dlsym(libc, "mallinfo2") : NULL;
    if (!check(mi != NULL, "glibc's own mallinfo2"))
        return;
    struct mallinfo2 g = mi();
    printf("glibc's heap: arena %zu, in use %zu, mmapped %zu\n", g.arena,
           g.uordblks, g.hblkhd);
    check(g.arena == 0 && g.uordblks == 0 && g.hblkhd == 0,
          "glibc's heap was used");
}

int main(void)
{
    report_allocator();
    other_names();
    libc_inside();
    libc_inside_more();
    glibc_heap_unused();
    return finish();
}
