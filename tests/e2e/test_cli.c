/* test_cli.c - the `wirewatch` client against a real pipeline: rules check
 * (exit codes, FILE:LINE:COL), publish (jsonl and text, bad lines),
 * subscribe --json/--count/--timeout, --since and --resume (each alert
 * exactly once across runs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "wwtest.h"
#include "ww/alert.h"
#include "ww/alloc.h"
#include "ww/daemon.h"

static const char *RULES =
    "rules:\n"
    "  - id: volcano\n"
    "    channel: disasters.volcano\n"
    "    severity: high\n"
    "    match: 'volcan* OR eruption'\n"
    "  - id: harvest\n"
    "    channel: farming.harvest\n"
    "    match: '\"wheat harvest\"'\n";

static wwt_pipeline_t P;

static int setup(void **state)
{
    (void)state;
    return wwt_pipeline_start(&P, RULES, 1, 1);
}

static int teardown(void **state)
{
    (void)state;
    return wwt_pipeline_stop(&P);
}

/* Counts the JSON lines of `out` whose "rule" is `rule`; checks every line is
 * an alert object. */
static int count_rule(const char *out, const char *rule, int *lines)
{
    int n = 0;
    *lines = 0;
    const char *p = out;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len) {
            json_error_t err;
            json_t *j = json_loadb(p, len, 0, &err);
            assert_non_null(j);
            assert_true(json_is_string(json_object_get(j, "id")));
            assert_true(json_is_object(json_object_get(j, "event")));
            const char *r = json_string_value(json_object_get(j, "rule"));
            assert_non_null(r);
            if (strcmp(r, rule) == 0)
                n++;
            (*lines)++;
            json_decref(j);
        }
        p += len + (nl ? 1 : 0);
    }
    return n;
}

static void test_rules_check(void **state)
{
    (void)state;
    char *out = NULL;
    const char *ok[] = {"rules", "check", P.rules, NULL};
    assert_int_equal(wwt_run("wirewatch", ok, NULL, &out, true), 0);
    assert_non_null(strstr(out, "ok, 2 rules"));
    ww_free(out);
    char *bad = wwt_write_file(P.dir, "bad.yaml",
                               "rules:\n  - id: a\n    channel: c\n    match: 'x AND (y OR'\n");
    const char *args[] = {"rules", "check", bad, NULL};
    assert_int_equal(wwt_run("wirewatch", args, NULL, &out, true), 2);
    char *where = ww_asprintf("%s:4:", bad);
    assert_non_null(strstr(out, where)); /* FILE:LINE:COL */
    ww_free(where);
    ww_free(out);
    ww_free(bad);
    const char *missing[] = {"rules", "check", NULL};
    assert_int_equal(wwt_run("wirewatch", missing, NULL, NULL, true), 2);
}

static void test_publish_subscribe_since_resume(void **state)
{
    (void)state;
    /* a live subscriber first */
    char *live_out = ww_asprintf("%s/live.out", P.dir);
    const char *sub_args[] = {"subscribe", "disasters.", "farming.", "--json", "--count", "3",
                              "--timeout", "20", "-c", P.config, NULL};
    pid_t sub = wwt_spawn_io("wirewatch", sub_args, live_out, P.log);
    /* a resumable subscriber registers its name before anything happens */
    char *out = NULL;
    const char *res_args[] = {"subscribe", "--json", "--resume", "ann", "--timeout", "1", "-c", P.config, NULL};
    assert_int_equal(wwt_run("wirewatch", res_args, NULL, &out, false), 0);
    assert_string_equal(out, "");
    ww_free(out);
    wwt_sleep_ms(500);

    char *jsonl = wwt_write_file(P.dir, "events.jsonl",
                                 "{\"title\":\"Volcano erupts near village\",\"body\":\"Ash fell.\",\"url\":\"https://x.example/1\"}\n"
                                 "{\"title\":\"Farm report\",\"body\":\"The wheat harvest began early.\",\"url\":\"https://x.example/2\"}\n");
    const char *pub_args[] = {"publish", jsonl, "-c", P.config, NULL};
    assert_int_equal(wwt_run("wirewatch", pub_args, NULL, NULL, false), 0);
    char *text = wwt_write_file(P.dir, "article.txt", "Eruption warning lifted\nScientists lowered the alert level.\n");
    const char *pub_text[] = {"publish", text, "--format", "text", "-c", P.config, NULL};
    assert_int_equal(wwt_run("wirewatch", pub_text, NULL, NULL, false), 0);
    /* a bad line is reported with its number and the exit code says so */
    char *badl = wwt_write_file(P.dir, "bad.jsonl", "{\"title\":\"ok line\"}\n{not json\n");
    const char *pub_bad[] = {"publish", badl, "-c", P.config, NULL};
    assert_int_equal(wwt_run("wirewatch", pub_bad, NULL, &out, true), 1);
    assert_non_null(strstr(out, "bad.jsonl:2: skipped"));
    ww_free(out);

    int st;
    assert_int_equal(waitpid(sub, &st, 0), sub);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *live = wwt_read_file(live_out);
    int lines;
    assert_int_equal(count_rule(live, "volcano", &lines), 2);
    assert_int_equal(lines, 3);
    assert_int_equal(count_rule(live, "harvest", &lines), 1);

    /* --since the first alert: the other two come from history */
    json_t *first = json_loadb(live, strcspn(live, "\n"), 0, NULL);
    assert_non_null(first);
    const char *first_id = json_string_value(json_object_get(first, "id"));
    const char *since_args[] = {"subscribe", "--json", "--since", first_id, "--count", "2",
                                "--timeout", "5", "-c", P.config, NULL};
    assert_int_equal(wwt_run("wirewatch", since_args, NULL, &out, false), 0);
    assert_int_equal(count_rule(out, "volcano", &lines) + count_rule(out, "harvest", &lines), 2);
    assert_int_equal(lines, 2);
    assert_null(strstr(out, first_id));
    ww_free(out);
    json_decref(first);

    /* --resume: ann sees all three exactly once, then nothing again */
    const char *res2[] = {"subscribe", "--json", "--resume", "ann", "--timeout", "2", "-c", P.config, NULL};
    assert_int_equal(wwt_run("wirewatch", res2, NULL, &out, false), 0);
    assert_int_equal(count_rule(out, "volcano", &lines), 2);
    assert_int_equal(lines, 3);
    ww_free(out);
    assert_int_equal(wwt_run("wirewatch", res2, NULL, &out, false), 0);
    assert_int_equal(count_rule(out, "volcano", &lines), 0);
    assert_int_equal(lines, 0);
    ww_free(out);

    ww_free(live);
    ww_free(live_out);
    ww_free(jsonl);
    ww_free(text);
    ww_free(badl);
}

/* Puts a volcano alert straight into the history stream, never publishing
 * it live (what a subscriber sees when the PUB socket dropped it). */
static void stream_only_alert(const char *id, const char *event_id, const char *title)
{
    ww_alert_t a = {0};
    a.id = (char *)id;
    a.rule = "volcano";
    a.channel = "disasters.volcano";
    a.severity = "high";
    a.event.id = (char *)event_id;
    a.event.title = (char *)title;
    a.event.url = "";
    a.event.source = "test";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    ww_alert_pack(&pk, &a);
    redisReply *r = wwt_redis_cmd(&P.redis, "XADD t:alerts * channel disasters.volcano alert %b", sb.data, sb.size);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    msgpack_sbuffer_destroy(&sb);
}

/* A live alert lost on the way (PUB drops it) is recovered from the history:
 * an alert is put straight into the stream, never published live; the next
 * live alert reveals the gap and the subscriber shows the lost one first. */
static void test_subscribe_fills_live_gaps(void **state)
{
    (void)state;
    char *out_path = ww_asprintf("%s/gap.out", P.dir);
    const char *args[] = {"subscribe", "--json", "--resume", "gapper", "--count", "2", "--timeout", "20",
                          "-c", P.config, NULL};
    pid_t sub = wwt_spawn_io("wirewatch", args, out_path, P.log);
    wwt_sleep_ms(1500);
    stream_only_alert("0123456789abcdef0123456789abcdef", "feedfeedfeedfeedfeedfeedfeedfeed", "Lost on the way");
    char *jsonl = wwt_write_file(P.dir, "gap.jsonl",
                                 "{\"title\":\"Volcano alert raised again\",\"body\":\"Ash.\",\"url\":\"https://x.example/gap\"}\n");
    const char *pub_args[] = {"publish", jsonl, "-c", P.config, NULL};
    assert_int_equal(wwt_run("wirewatch", pub_args, NULL, NULL, false), 0);
    int st;
    assert_int_equal(waitpid(sub, &st, 0), sub);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *out = wwt_read_file(out_path);
    char *a = strstr(out, "Lost on the way"), *b = strstr(out, "Volcano alert raised again");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    ww_free(out);
    ww_free(out_path);
    ww_free(jsonl);
}

/* A plain live subscriber (no --resume) misses nothing that fires after it
 * starts, even what the live socket never delivers (a late join, a PUB
 * drop): an alert only put into the stream, with no live alert after it,
 * is shown from the history within a second of quiet. */
static void test_live_subscriber_reads_missed_alerts(void **state)
{
    (void)state;
    char *out_path = ww_asprintf("%s/late.out", P.dir);
    const char *args[] = {"subscribe", "disasters.", "--json", "--count", "1", "--timeout", "15",
                          "-c", P.config, NULL};
    pid_t sub = wwt_spawn_io("wirewatch", args, out_path, P.log);
    wwt_sleep_ms(1000);
    const char *lost_id = "abcdefabcdefabcdefabcdefabcdef01";
    stream_only_alert(lost_id, "beefbeefbeefbeefbeefbeefbeefbeef", "Never delivered live");
    int64_t t0 = ww_mono_ms();
    int st;
    assert_int_equal(waitpid(sub, &st, 0), sub);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(ww_mono_ms() - t0 < 10000); /* found, not timed out */
    char *out = wwt_read_file(out_path);
    assert_non_null(strstr(out, "Never delivered live"));
    assert_non_null(strstr(out, lost_id));
    ww_free(out);
    ww_free(out_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_check),
        cmocka_unit_test(test_publish_subscribe_since_resume),
        cmocka_unit_test(test_subscribe_fills_live_gaps),
        cmocka_unit_test(test_live_subscriber_reads_missed_alerts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
