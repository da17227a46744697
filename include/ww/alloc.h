/* alloc.h - the one allocator wrapper. Out of memory aborts (like Redis'
 * zmalloc): no caller checks for NULL from these. */
#ifndef WW_ALLOC_H
#define WW_ALLOC_H
#include <stdarg.h>
#include <stddef.h>

/* Caller owns the return value; never NULL. */
void *ww_malloc(size_t n);
void *ww_calloc(size_t count, size_t size);
void *ww_realloc(void *p, size_t n);
/* Copies s (NULL gives NULL). Caller owns. */
char *ww_strdup(const char *s);
/* Copies n bytes of s and NUL-terminates. Caller owns. */
char *ww_strndup(const char *s, size_t n);
/* printf into a new string. Caller owns. */
char *ww_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ww_free(void *p);
/* Appends printf output to the growing string *buf (*len bytes used, *cap
 * allocated; NUL-terminated after the call). */
void ww_appendf(char **buf, size_t *cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ww_vappendf(char **buf, size_t *cap, size_t *len, const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* Grows *arr (of elements of size elem) so that it holds at least need
 * elements; *cap is updated. Doubling growth. */
void ww_grow(void **arr, size_t *cap, size_t need, size_t elem);
/* (the capacity test is inline: WW_GROW is on hot paths; `need` is
 * evaluated twice, so it must have no side effects) */
#define WW_GROW(arr, cap, need)                                                                   \
    do {                                                                                          \
        if ((size_t)(need) > (size_t)(cap))                                                       \
            ww_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)));                             \
    } while (0)

#endif
