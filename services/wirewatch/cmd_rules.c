/* cmd_rules.c - `wirewatch rules check|load|test|explain`.
 *
 * test: an offline backtest. Events come from archives in event-time order;
 * events without entities go through the extractor as live ones do; the
 * rules are evaluated as by the alert worker, and every hit goes through the
 * same firing decision (ww_alert_state_decide, the in-memory mirror of the
 * worker's Redis script), so the same alert ids fire. fired_at is the event
 * time (live: the wall clock). A summary of alerts per rule per day (UTC)
 * follows (on stderr with --json).
 * explain: for one event, every rule's verdict, node by node. */
#include <getopt.h>
#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ww/alert_state.h"
#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/archive.h"
#include "ww/extract.h"
#include "ww/fileutil.h"
#include "ww/rules.h"

int cli_rules_store_buffer(ww_redis_t *r, const char *prefix, const char *text, size_t len, const char *name,
                           char version[17], size_t *count, char *err, size_t errlen)
{
    ww_ruleset_t *rs = ww_rules_load_buffer(text, len, name, err, errlen);
    if (!rs)
        return -1;
    snprintf(version, 17, "%s", ww_rules_version(rs));
    *count = ww_rules_count(rs);
    ww_rules_destroy(&rs);
    /* text and version change together; workers poll the version */
    int rc = -1;
    snprintf(err, errlen, "storing the rules in Redis failed");
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
                snprintf(err, errlen, "%s", rep->str);
                rc = -1;
            }
            freeReplyObject(rep);
        }
    }
    return rc;
}

int cli_rules_store(ww_redis_t *r, const char *prefix, const char *path, char version[17], size_t *count)
{
    size_t len;
    char *text = ww_file_read(path, &len);
    if (!text) {
        perror(path);
        return -1;
    }
    char err[1024];
    int rc = cli_rules_store_buffer(r, prefix, text, len, path, version, count, err, sizeof err);
    if (rc < 0) {
        /* a parse error is FILE:LINE:COL: message; a Redis failure is reported as before */
        if (strncmp(err, "storing the rules", 17) == 0)
            fprintf(stderr, "wirewatch rules load: %s\n", err);
        else if (strncmp(err, path, strlen(path)) == 0)
            fprintf(stderr, "%s\n", err);
        else
            fprintf(stderr, "wirewatch rules load: %s\nwirewatch rules load: storing the rules in Redis failed\n", err);
    }
    ww_free(text);
    return rc;
}

void cli_enrich(cli_enricher_t *le, ww_event_t *ev)
{
    if (ev->n_entities)
        return;
    if (!le->shared && !le->tried) {
        le->tried = true;
        char err[512];
        le->x = ww_extractor_new(NULL, NULL, err, sizeof err);
        if (!le->x)
            fprintf(stderr, "wirewatch rules: no extractor (%s): entity rules see no entities\n", err);
    }
    const ww_extractor_t *x = le->shared ? le->shared : le->x;
    if (!x)
        return;
    if (!le->s)
        le->s = ww_extract_scratch_new();
    ww_extract_event(x, le->s, ev);
}

void cli_enricher_free(cli_enricher_t *le)
{
    ww_extract_scratch_destroy(&le->s);
    ww_extractor_destroy(&le->x);
}

int cli_backtest(const ww_ruleset_t *rs, ww_archive_reader_t *rd, cli_enricher_t *le,
                 const cli_backtest_limits_t *lim, cli_backtest_fn fn, void *ud, cli_backtest_result_t *res)
{
    memset(res, 0, sizeof *res);
    ww_alert_state_t *st = ww_alert_state_new();
    ww_rules_scratch_t *s = ww_rules_scratch_new();
    ww_hits_t hits;
    ww_hits_init(&hits);
    ww_event_t *ev = NULL;
    int r;
    for (;;) {
        if (lim && lim->max_events && res->events >= lim->max_events) {
            res->truncated = true;
            res->stopped_by = "max_events";
            r = 0;
            break;
        }
        /* the clock is read every 64 events: cheap, and fine-grained enough */
        if (lim && (res->events & 63) == 0 &&
            ((lim->deadline_ms && ww_mono_ms() >= lim->deadline_ms) || (lim->stop && *lim->stop))) {
            res->truncated = true;
            res->stopped_by = lim->stop && *lim->stop ? "shutdown" : "timeout";
            r = 0;
            break;
        }
        if ((r = ww_archive_reader_next(rd, &ev)) != 1)
            break;
        res->events++;
        cli_enrich(le, ev);
        ww_rules_eval(rs, ev, s, &hits);
        int64_t t = ww_event_time(ev);
        for (size_t h = 0; h < hits.n; h++) {
            const ww_hit_t *hit = &hits.hits[h];
            const char *keys[64];
            size_t nk = ww_alert_hit_keys(hit, ev, keys, 64);
            ww_fire_params_t fp;
            ww_fire_params_from_rule(hit->rule, &fp);
            for (size_t k = 0; k < nk; k++) {
                ww_alert_t *a = ww_alert_from_hit(hit, ev, keys[k], t);
                ww_alert_add_state_match(a, hit->rule, keys[k]);
                ww_fire_t f = ww_alert_state_decide(st, a->id, hit->rule->id, keys[k], ev->id ? ev->id : "", t, &fp);
                if (f != WW_FIRE_YES) {
                    res->suppressed[f]++;
                    ww_alert_destroy(&a);
                    continue;
                }
                res->alerts++;
                fn(ud, a, hit, t);
                ww_alert_destroy(&a);
            }
        }
        ww_event_destroy(&ev);
    }
    ww_hits_deinit(&hits);
    ww_rules_scratch_destroy(&s);
    ww_alert_state_destroy(&st);
    return r < 0 ? -1 : 0;
}

/* Alerts of one rule on one day. */
typedef struct {
    size_t rule;
    char day[11];
    uint64_t n;
} day_count_t;

/* What rules_test's callback needs. */
typedef struct {
    bool json;
    day_count_t *days;
    size_t n_days, cap_days;
} test_out_t;

/* Prints one backtest alert and counts it per rule and day. */
static void test_alert(void *ud, const ww_alert_t *a, const ww_hit_t *hit, int64_t t)
{
    test_out_t *o = ud;
    if (o->json) {
        char *j = ww_alert_to_json(a);
        printf("%s\n", j);
        ww_free(j);
    } else {
        cli_print_alert(a, false);
    }
    time_t secs = (time_t)(t / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char day[11];
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    size_t i = 0;
    while (i < o->n_days && !(o->days[i].rule == hit->rule_index && strcmp(o->days[i].day, day) == 0))
        i++;
    if (i == o->n_days) {
        WW_GROW(o->days, o->cap_days, o->n_days + 1);
        o->days[o->n_days].rule = hit->rule_index;
        memcpy(o->days[o->n_days].day, day, sizeof day);
        o->days[o->n_days++].n = 0;
    }
    o->days[i].n++;
}

static int rules_test(const char *file, const char *const *archives, size_t n_arch, int64_t from, int64_t to,
                      bool json)
{
    char err[1024];
    ww_ruleset_t *rs = ww_rules_load_file(file, err, sizeof err);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    ww_archive_reader_t *rd = ww_archive_reader_open(archives, n_arch, from, to, err, sizeof err);
    if (!rd) {
        fprintf(stderr, "wirewatch rules test: %s\n", err);
        ww_rules_destroy(&rs);
        return 2;
    }
    cli_enricher_t le = {0};
    test_out_t o = {.json = json};
    cli_backtest_result_t res;
    int r = cli_backtest(rs, rd, &le, NULL, test_alert, &o, &res);
    FILE *out = json ? stderr : stdout;
    fprintf(out, "\n%" PRIu64 " events, %" PRIu64 " alerts (suppressed: %" PRIu64 " duplicate, %" PRIu64
            " below threshold/spike, %" PRIu64 " cooldown), rules version %s\n",
            res.events, res.alerts, res.suppressed[WW_FIRE_DUPLICATE], res.suppressed[WW_FIRE_BELOW],
            res.suppressed[WW_FIRE_COOLDOWN], ww_rules_version(rs));
    if (o.n_days) {
        fprintf(out, "%-32s %-10s %8s\n", "rule", "day", "alerts");
        for (size_t ri = 0; ri < ww_rules_count(rs); ri++)
            for (size_t i = 0; i < o.n_days; i++)
                if (o.days[i].rule == ri)
                    fprintf(out, "%-32s %-10s %8" PRIu64 "\n", ww_rules_get(rs, ri)->id, o.days[i].day, o.days[i].n);
    }
    int rc = r < 0 ? 1 : 0;
    if (r < 0)
        fprintf(stderr, "wirewatch rules test: reading the archive failed\n");
    ww_free(o.days);
    cli_enricher_free(&le);
    ww_archive_reader_close(&rd);
    ww_rules_destroy(&rs);
    return rc;
}

static int rules_explain(const char *file, const char *const *archives, size_t n_arch, const char *event_id)
{
    char err[1024];
    ww_ruleset_t *rs = ww_rules_load_file(file, err, sizeof err);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    ww_archive_reader_t *rd = ww_archive_reader_open(archives, n_arch, 0, INT64_MAX, err, sizeof err);
    if (!rd) {
        fprintf(stderr, "wirewatch rules explain: %s\n", err);
        ww_rules_destroy(&rs);
        return 2;
    }
    ww_event_t *ev = NULL, *found = NULL;
    while (!found && ww_archive_reader_next(rd, &ev) == 1) {
        if (ev->id && strcmp(ev->id, event_id) == 0)
            found = ev;
        else
            ww_event_destroy(&ev);
    }
    ww_archive_reader_close(&rd);
    if (!found) {
        fprintf(stderr, "wirewatch rules explain: event %s is not in the archive\n", event_id);
        ww_rules_destroy(&rs);
        return 1;
    }
    cli_enricher_t le = {0};
    cli_enrich(&le, found);
    ww_rules_scratch_t *s = ww_rules_scratch_new();
    printf("event %s: \"%s\" (%zu entities)\n", found->id, found->title ? found->title : "", found->n_entities);
    for (size_t i = 0; i < found->n_entities; i++) {
        const ww_entity_t *e = &found->entities[i];
        printf("  entity %s \"%s\" as \"%s\" in %s %u-%u\n", ww_ent_type_name(e->type) ? ww_ent_type_name(e->type) : "?",
               e->canonical ? e->canonical : "", e->text ? e->text : "", ww_field_name(e->field), e->start, e->end);
    }
    size_t matched_n = 0;
    for (size_t i = 0; i < ww_rules_count(rs); i++) {
        const ww_rule_t *r = ww_rules_get(rs, i);
        bool cand = ww_rules_is_candidate(rs, found, s, i);
        bool m = false;
        char *text = ww_rules_explain(rs, i, found, s, &m);
        matched_n += m;
        printf("\nrule %s (line %d): %s%s\n", r->id, r->line, m ? "MATCHES" : "does not match",
               cand ? "" : " (not a candidate: the index found none of its trigger terms)");
        if (m && (r->threshold.on || r->spike.on || r->cooldown_ms))
            printf("  (whether it fires also depends on %s: see 'wirewatch rules test')\n",
                   r->threshold.on ? "the threshold window" : r->spike.on ? "the spike baseline" : "its cooldown");
        fputs(text, stdout);
        ww_free(text);
    }
    printf("\n%zu of %zu rules match\n", matched_n, ww_rules_count(rs));
    ww_rules_scratch_destroy(&s);
    cli_enricher_free(&le);
    ww_event_destroy(&found);
    ww_rules_destroy(&rs);
    return 0;
}

static void rules_usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch rules check FILE\n"
               "       wirewatch rules load FILE [-c FILE] [--redis URL]\n"
               "       wirewatch rules test FILE --archive ARCHIVE... [--json] [--from T] [--to T]\n"
               "       wirewatch rules explain FILE --archive ARCHIVE... --event ID\n"
               "check validates a rules file (errors name FILE:LINE:COL; exit 2 when invalid);\n"
               "load stores it in Redis, where running alert workers pick it up within a second;\n"
               "test replays archives through the rules offline (no daemons, no Redis; event time);\n"
               "explain says for every rule why it did or did not match one archived event.\n");
}

int cmd_rules(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"redis", required_argument, NULL, 'r'},
                                         {"archive", required_argument, NULL, 'a'},
                                         {"event", required_argument, NULL, 'e'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"from", required_argument, NULL, 'F'},
                                         {"to", required_argument, NULL, 'T'},
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
    const char *archives[64];
    size_t n_arch = 0;
    const char *event_id = NULL;
    bool json = false;
    int64_t from = 0, to = INT64_MAX;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cc.config_path = optarg; break;
        case 'r': cc.redis_url = optarg; break;
        case 'a':
            if (n_arch < 64)
                archives[n_arch++] = optarg;
            break;
        case 'e': event_id = optarg; break;
        case 'j': json = true; break;
        case 'F':
        case 'T':
            if (ww_archive_parse_time(optarg, c == 'F' ? &from : &to) < 0) {
                fprintf(stderr, "wirewatch rules: bad time '%s'\n", optarg);
                return 2;
            }
            break;
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
    if (strcmp(sub, "test") == 0 || strcmp(sub, "explain") == 0) {
        if (n_arch == 0 || (strcmp(sub, "explain") == 0 && !event_id)) {
            rules_usage(stderr);
            return 2;
        }
        return strcmp(sub, "test") == 0 ? rules_test(file, archives, n_arch, from, to, json)
                                        : rules_explain(file, archives, n_arch, event_id);
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
