/* cmd_extract.c - `wirewatch extract` (entities, keywords, quotes of plain
 * text). `wirewatch stats` lives in cmd_stats.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/extract.h"
#include "ww/fileutil.h"

int cmd_extract(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'c': cc.config_path = optarg; break;
        case 'h':
            printf("Usage: wirewatch extract [FILE|-] [--json]\n"
                   "Runs the extractor on plain text and prints entities, keywords and quotes.\n");
            return 0;
        default: return 2;
        }
    }
    if (argc - optind > 1)
        return 2;
    const char *path = optind < argc ? argv[optind] : "-";
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t len;
    char *text = ww_stream_read(f, &len);
    if (f != stdin)
        fclose(f);
    if (cli_load_config(&cc) != 0) {
        ww_free(text);
        return 2;
    }
    char err[512];
    ww_extractor_t *x = ww_extractor_new(cc.cfg.extract.gazetteer, cc.cfg.extract.model, err, sizeof err);
    if (!x) {
        fprintf(stderr, "wirewatch extract: %s\n", err);
        ww_free(text);
        ww_config_free(&cc.cfg);
        return 1;
    }
    ww_event_t *ev = ww_event_new();
    bool repaired;
    ev->body = ww_utf8_repair(text, len, &repaired);
    ww_free(text);
    ww_extract_scratch_t *s = ww_extract_scratch_new();
    ww_extract_event(x, s, ev);
    if (json) {
        char *j = ww_event_to_json(ev);
        printf("%s\n", j);
        ww_free(j);
    } else {
        printf("entities:\n");
        for (size_t i = 0; i < ev->n_entities; i++) {
            const ww_entity_t *e = &ev->entities[i];
            printf("  %-7s %-30s canonical=\"%s\" %s %u-%u count=%u\n", ww_ent_type_name(e->type), e->text,
                   e->canonical, ww_field_name(e->field), e->start, e->end, e->count);
        }
        printf("keywords:\n");
        for (size_t i = 0; i < ev->n_keywords; i++)
            printf("  %-30s %.3f\n", ev->keywords[i].term, ev->keywords[i].score);
        printf("quotes:\n");
        for (size_t i = 0; i < ev->n_quotes; i++)
            printf("  %s: \"%s\"\n", ev->quotes[i].speaker[0] ? ev->quotes[i].speaker : "(unknown)",
                   ev->quotes[i].text);
    }
    ww_event_destroy(&ev);
    ww_extract_scratch_destroy(&s);
    ww_extractor_destroy(&x);
    ww_config_free(&cc.cfg);
    return 0;
}

static void print_hash(ww_redis_t *r, const char *key, const char *title)
{
    redisReply *rep = ww_redis_cmd(r, "HGETALL %s", key);
    printf("%s:", title);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements) {
        for (size_t i = 0; i + 1 < rep->elements; i += 2)
            printf(" %s=%s", rep->element[i]->str, rep->element[i + 1]->str);
    } else {
        printf(" (nothing yet)");
    }
    printf("\n");
    if (rep)
        freeReplyObject(rep);
}

int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"redis", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cc.config_path = optarg; break;
        case 'r': cc.redis_url = optarg; break;
        case 'h': printf("Usage: wirewatch stats [-c FILE] [--redis URL]\n"); return 0;
        default: return 2;
        }
    }
    if (cli_load_config(&cc) != 0)
        return 2;
    ww_redis_t *r = cli_redis(&cc, 2000);
    if (!r) {
        ww_config_free(&cc.cfg);
        return 1;
    }
    const char *p = cc.cfg.prefix;
    char key[256];
    redisReply *rep = ww_redis_cmd(r, "INFO server");
    if (rep && rep->type == REDIS_REPLY_STRING) {
        char *v = strstr(rep->str, "redis_version:");
        char *u = strstr(rep->str, "uptime_in_seconds:");
        printf("redis: up, version %.*s, uptime %lds\n", v ? (int)strcspn(v + 14, "\r\n") : 1, v ? v + 14 : "?",
               u ? atol(u + 18) : 0L);
    }
    if (rep)
        freeReplyObject(rep);
    const char *stages[] = {"ingest", "extract", "alert"};
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "%sstats:%s", p, stages[i]);
        print_hash(r, key, stages[i]);
    }
    rep = ww_redis_cmd(r, "KEYS %sworkers:*", p);
    printf("workers alive: %zu\n", rep && rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0);
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        printf("  %s\n  ", rep->element[i]->str + strlen(p));
        print_hash(r, rep->element[i]->str, " ");
    }
    if (rep)
        freeReplyObject(rep);
    rep = ww_redis_cmd(r, "GET %srules:version", p);
    printf("rules version in Redis: %s\n", rep && rep->type == REDIS_REPLY_STRING ? rep->str : "(none)");
    if (rep)
        freeReplyObject(rep);
    rep = ww_redis_cmd(r, "XLEN %salerts", p);
    printf("alerts in history: %lld\n", rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0LL);
    if (rep)
        freeReplyObject(rep);
    ww_redis_destroy(&r);
    ww_config_free(&cc.cfg);
    return 0;
}
