/* console_assets.h - the console's page, embedded in the binary.
 * The table is generated at build time from the files in
 * services/wirewatch/console/ by tools/console_assets.cmake (regenerated when an asset changes). */
#ifndef WW_CONSOLE_ASSETS_H
#define WW_CONSOLE_ASSETS_H
#include <stddef.h>

typedef struct {
    const char *path;          /* URL path, "/" for index.html */
    const char *ctype;         /* Content-Type */
    const unsigned char *data; /* the file's bytes */
    size_t len;
    const char *etag;          /* quoted SHA-1 prefix of the content */
} ww_console_asset_t;

extern const ww_console_asset_t ww_console_assets[];
extern const size_t ww_console_n_assets;

#endif
