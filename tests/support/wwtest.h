/* wwtest.h - test harness helpers: a throwaway redis-server, free ports,
 * spawning the real daemons, temp files. Used by cmocka tests and benches. */
#ifndef WWTEST_H
#define WWTEST_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    char dir[256];  /* temp dir holding the socket and log */
    char url[320];  /* unix://.../redis.sock */
} wwt_redis_t;

/* Starts redis-server on a unix socket in a new temp dir; waits until it
 * answers. Returns 0 or -1. */
int wwt_redis_start(wwt_redis_t *r);
/* Stops it (SIGTERM, waits) and removes the temp dir. */
void wwt_redis_stop(wwt_redis_t *r);
/* Restarts a stopped server at the same socket. */
int wwt_redis_restart(wwt_redis_t *r);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int wwt_free_port(void);

/* Creates a temp dir (mkdtemp under $TMPDIR or /tmp). Caller owns the path. */
char *wwt_tmpdir(const char *tag);
/* Removes a temp dir and the files directly in it. */
void wwt_rmdir(const char *dir);
/* Writes content to dir/name. Returns the path (caller owns). */
char *wwt_write_file(const char *dir, const char *name, const char *content);

/* Path of a built program (WW_BIN_DIR env, else the compiled-in bin dir). Caller owns. */
char *wwt_bin(const char *name);
/* Starts program `name` from the bin dir with argv (argv[0] filled in; NULL
 * terminated, up to 16 args); stderr goes to logfile when non-NULL. Returns pid. */
pid_t wwt_spawn(const char *name, const char *const *args, const char *logfile);
/* Sends sig and waits up to timeout_ms; SIGKILL after that. Returns the wait
 * status, or -1. */
int wwt_stop(pid_t pid, int sig, int timeout_ms);
/* Runs a program to completion, capturing stdout into *out (caller owns,
 * may be NULL). Returns its exit code, or -1. */
int wwt_run(const char *name, const char *const *args, const char *stdin_file, char **out);

/* Directory of the shared real data (../shared/data) when present, else NULL.
 * Borrowed (static). */
const char *wwt_shared_data(void);

/* Milliseconds since an arbitrary epoch (monotonic) and sleeping. */
long wwt_ms(void);
void wwt_sleep_ms(long ms);

#endif
