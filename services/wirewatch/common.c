/* common.c - helpers shared by the client's commands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/zmqutil.h"

int cli_load_config(cli_common_t *c)
{
    char err[512];
    if (ww_config_resolve(&c->cfg, c->config_path, c->redis_url, err, sizeof err) < 0) {
        fprintf(stderr, "wirewatch: %s\n", err);
        return 2;
    }
    if (ww_zmq_security_init(&c->cfg, err, sizeof err) < 0) { /* CurveZMQ keys (SPEC §7) */
        fprintf(stderr, "wirewatch: %s\n", err);
        ww_config_free(&c->cfg);
        return 2;
    }
    return 0;
}

ww_redis_t *cli_redis(const cli_common_t *c, long timeout_ms)
{
    if (!c->cfg.redis) {
        fprintf(stderr, "wirewatch: no Redis configured (--redis URL, WIREWATCH_REDIS_URL or 'redis:' in the config)\n");
        return NULL;
    }
    char err[256];
    ww_redis_t *r = ww_redis_new(c->cfg.redis, err, sizeof err);
    if (!r) {
        fprintf(stderr, "wirewatch: %s\n", err);
        return NULL;
    }
    if (ww_redis_wait(r, NULL, timeout_ms) < 0) {
        char *red = ww_redis_url_redacted(c->cfg.redis);
        fprintf(stderr, "wirewatch: cannot reach Redis at %s\n", red);
        ww_free(red);
        ww_redis_destroy(&r);
        return NULL;
    }
    return r;
}

void cli_print_alert(const ww_alert_t *a, bool color)
{
    static const struct {
        const char *sev, *col;
    } cols[] = {{"info", "\033[37m"}, {"low", "\033[36m"}, {"medium", "\033[33m"},
                {"high", "\033[31m"}, {"critical", "\033[1;41;37m"}};
    const char *col = "";
    for (size_t i = 0; color && i < sizeof cols / sizeof cols[0]; i++)
        if (strcmp(a->severity, cols[i].sev) == 0)
            col = cols[i].col;
    printf("%s%-8s%s %-22s %-18s %s\n", col, a->severity, color ? "\033[0m" : "", a->channel, a->rule,
           a->event.title);
    printf("         matched:");
    for (size_t i = 0; i < a->n_matches; i++) {
        const ww_match_t *m = &a->matches[i];
        switch (m->kind) {
        case WW_MATCH_ENTITY:
            printf(" %s \"%s\"", ww_ent_type_name(m->type), m->value);
            break;
        case WW_MATCH_THRESHOLD:
            printf(" threshold(%s ≥ %u)", m->value, m->count);
            break;
        case WW_MATCH_SPIKE:
            printf(" spike(%s)", m->value);
            break;
        default:
            printf(" \"%s\"", m->value);
        }
        if (m->has_pos)
            printf(" (%s %u-%u)", ww_field_name(m->field), m->start, m->end);
        if (i + 1 < a->n_matches)
            printf(",");
    }
    printf("\n         id %s  event %s\n", a->id, a->event.id);
}
