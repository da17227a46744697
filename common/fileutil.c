/* fileutil.c - reading whole files and streams. */
#include "ww/fileutil.h"

#include "ww/alloc.h"

char *ww_stream_read(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0, r;
    char *buf = ww_malloc(cap);
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2)
            buf = ww_realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *ww_file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = ww_stream_read(f, len);
    fclose(f);
    return buf;
}
