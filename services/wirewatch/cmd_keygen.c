/* cmd_keygen.c - `wirewatch keygen [--out PREFIX] [--force]`: writes a CurveZMQ
 * key pair (SPEC §7) as two Z85 text files, PREFIX.pub (mode 0644) and
 * PREFIX.key (mode 0600, created that way: never readable by others, not even
 * for a moment). Prints the public key on stdout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "ww/alloc.h"

/* Writes one key file: a comment line and the key. Returns 0 or -1 (printed). */
static int write_key(const char *path, const char *comment, const char *key, mode_t mode, bool force)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, mode);
    if (fd < 0) {
        fprintf(stderr, "wirewatch keygen: %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (use --force to overwrite)" : "");
        return -1;
    }
    char buf[256];
    int n = snprintf(buf, sizeof buf, "# %s\n%s\n", comment, key);
    int rc = 0;
    if (fchmod(fd, mode) < 0 || write(fd, buf, (size_t)n) != n || fsync(fd) < 0) {
        fprintf(stderr, "wirewatch keygen: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    explicit_bzero(buf, sizeof buf);
    if (close(fd) < 0 && rc == 0) {
        fprintf(stderr, "wirewatch keygen: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    return rc;
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *prefix = "wirewatch";
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': prefix = optarg; break;
        case 'f': force = true; break;
        case 'h':
            printf("Usage: wirewatch keygen [--out PREFIX] [--force]\n"
                   "Writes a CurveZMQ key pair: PREFIX.pub (public, Z85) and PREFIX.key (secret, mode 0600).\n"
                   "Default PREFIX: ./wirewatch. Name them in the config under curve: (see docs/operations.md).\n");
            return 0;
        default: return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wirewatch keygen: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!zmq_has("curve")) {
        fprintf(stderr, "wirewatch keygen: this libzmq was built without CURVE support\n");
        return 1;
    }
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0) {
        fprintf(stderr, "wirewatch keygen: zmq_curve_keypair: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    size_t n = strlen(prefix) + 5;
    char *pub_path = ww_malloc(n), *sec_path = ww_malloc(n);
    snprintf(pub_path, n, "%s.pub", prefix);
    snprintf(sec_path, n, "%s.key", prefix);
    int rc = 1;
    if (write_key(sec_path, "wirewatch CurveZMQ secret key: keep it private (mode 0600)", sec, 0600, force) < 0)
        goto cleanup;
    if (write_key(pub_path, "wirewatch CurveZMQ public key", pub, 0644, force) < 0) {
        unlink(sec_path);
        goto cleanup;
    }
    printf("%s\n", pub);
    fprintf(stderr, "wrote %s (public) and %s (secret, mode 0600)\n", pub_path, sec_path);
    rc = 0;
cleanup:
    explicit_bzero(sec, sizeof sec);
    ww_free(pub_path);
    ww_free(sec_path);
    return rc;
}
