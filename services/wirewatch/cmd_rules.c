/* cmd_rules.c - `wirewatch rules check|load`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/fileutil.h"
#include "ww/rules.h"

int cli_rules_store(ww_redis_t *r, const char *prefix, const char *path, char version[17], size_t *count)
{
    size_t len;
    char *text = ww_file_read(path, &len);
    if (!text) {
        perror(path);
        return -1;
    }
    char err[1024];
    ww_ruleset_t *rs = ww_rules_load_buffer(text, len, path, err, sizeof err);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        ww_free(text);
        return -1;
    }
    snprintf(version, 17, "%s", ww_rules_version(rs));
    *count = ww_rules_count(rs);
    ww_rules_destroy(&rs);
    /* text and version change together; workers poll the version */
    int rc = -1;
    if (ww_redis_append(r, "MULTI") == 0 && ww_redis_append(r, "SET %srules %b", prefix, text, len) == 0 &&
        ww_redis_append(r, "SET %srules:version %s", prefix, version) == 0 &&
        ww_redis_append(r, "PUBLISH %srules:changed %s", prefix, version) == 0 &&
        ww_redis_append(r, "EXEC") == 0) {
        rc = 0;
        for (int i = 0; i < 5; i++) {
            redisReply *rep;
            if (ww_redis_get_reply(r, &rep) < 0) {
                rc = -1;
                break;
            }
            if (rep->type == REDIS_REPLY_ERROR) {
                fprintf(stderr, "wirewatch rules load: %s\n", rep->str);
                rc = -1;
            }
            freeReplyObject(rep);
        }
    }
    if (rc < 0)
        fprintf(stderr, "wirewatch rules load: storing the rules in Redis failed\n");
    ww_free(text);
    return rc;
}

static void rules_usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch rules check FILE\n"
               "       wirewatch rules load FILE [-c FILE] [--redis URL]\n"
               "check validates a rules file (errors name FILE:LINE:COL; exit 2 when invalid);\n"
               "load stores it in Redis, where running alert workers pick it up within a second.\n");
}

int cmd_rules(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"redis", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2) {
        rules_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cc.config_path = optarg; break;
        case 'r': cc.redis_url = optarg; break;
        case 'h': rules_usage(stdout); return 0;
        default: rules_usage(stderr); return 2;
        }
    }
    if (argc - 1 - optind != 1) {
        rules_usage(stderr);
        return 2;
    }
    const char *file = argv[1 + optind];
    if (strcmp(sub, "check") == 0) {
        char err[1024];
        ww_ruleset_t *rs = ww_rules_load_file(file, err, sizeof err);
        if (!rs) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        printf("%s: ok, %zu rules, version %s\n", file, ww_rules_count(rs), ww_rules_version(rs));
        ww_rules_destroy(&rs);
        return 0;
    }
    if (strcmp(sub, "load") == 0) {
        if (cli_load_config(&cc) != 0)
            return 2;
        ww_redis_t *r = cli_redis(&cc, 5000);
        int rc = 1;
        if (r) {
            char version[17];
            size_t count;
            if (cli_rules_store(r, cc.cfg.prefix, file, version, &count) == 0) {
                printf("loaded %zu rules, version %s\n", count, version);
                rc = 0;
            } else {
                rc = 2;
            }
        }
        ww_redis_destroy(&r);
        ww_config_free(&cc.cfg);
        return rc;
    }
    fprintf(stderr, "wirewatch rules: unknown subcommand '%s'\n", sub);
    rules_usage(stderr);
    return 2;
}
