/* fileutil.h - reading whole files and streams. */
#ifndef WW_FILEUTIL_H
#define WW_FILEUTIL_H
#include <stddef.h>
#include <stdio.h>

/* Reads all of f; the result is NUL-terminated (the NUL not counted in
 * *len). Caller owns. */
char *ww_stream_read(FILE *f, size_t *len);
/* Reads a whole file, or NULL (errno set) when it cannot be opened. Caller owns. */
char *ww_file_read(const char *path, size_t *len);

#endif
