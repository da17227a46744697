/* alloc.c - allocator wrapper; one OOM policy: log and abort. */
#include "ww/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ww_oom(size_t n)
{
    fprintf(stderr, "level=error module=alloc msg=\"out of memory\" bytes=%zu\n", n);
    abort();
}

void *ww_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        ww_oom(n);
    return p;
}

void *ww_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        ww_oom(count * size);
    return p;
}

void *ww_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        ww_oom(n);
    return q;
}

char *ww_strdup(const char *s)
{
    if (!s)
        return NULL;
    return ww_strndup(s, strlen(s));
}

char *ww_strndup(const char *s, size_t n)
{
    char *d = ww_malloc(n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ww_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char probe[1];
    int n = vsnprintf(probe, sizeof probe, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *s = ww_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void ww_vappendf(char **buf, size_t *cap, size_t *len, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int k = vsnprintf(NULL, 0, fmt, ap);
    if (k >= 0) {
        WW_GROW(*buf, *cap, *len + (size_t)k + 1);
        vsnprintf(*buf + *len, (size_t)k + 1, fmt, again);
        *len += (size_t)k;
    }
    va_end(again);
}

void ww_appendf(char **buf, size_t *cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ww_vappendf(buf, cap, len, fmt, ap);
    va_end(ap);
}

void ww_free(void *p)
{
    free(p);
}

void ww_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    *arr = ww_realloc(*arr, n * elem);
    *cap = n;
}
