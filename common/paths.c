/* paths.c - locating bundled data and sibling programs. */
#include "ww/paths.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww/alloc.h"

char *ww_exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    return ww_strdup(buf);
}

static char *try_path(const char *dir, const char *name)
{
    if (!dir || !*dir)
        return NULL;
    char *p = ww_asprintf("%s/%s", dir, name);
    if (access(p, R_OK) == 0)
        return p;
    ww_free(p);
    return NULL;
}

char *ww_data_path(const char *name)
{
    char *p = try_path(getenv("WIREWATCH_DATADIR"), name);
    if (p)
        return p;
    char *exe = ww_exe_dir();
    if (exe) {
        char *share = ww_asprintf("%s/../share/wirewatch", exe);
        p = try_path(share, name);
        ww_free(share);
        ww_free(exe);
        if (p)
            return p;
    }
    if ((p = try_path(WW_BUILD_DATADIR, name)))
        return p;
    if ((p = try_path(WW_SOURCE_DATADIR, name)))
        return p;
    return try_path(WW_INSTALL_DATADIR, name);
}

char *ww_program_path(const char *name)
{
    char *exe = ww_exe_dir();
    if (exe) {
        char *p = try_path(exe, name);
        ww_free(exe);
        if (p)
            return p;
    }
    return ww_strdup(name);
}
