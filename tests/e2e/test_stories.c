/* test_stories.c - end to end: near-duplicates and stories.
 *
 * An article, two lightly edited copies of it under other URLs (a byline, a
 * changed word, different title casing and punctuation) and an unrelated
 * article go through a whole pipeline with an archive. Checked in
 * `wirewatch archive cat`: the copies carry duplicate_of = the article's id
 * and story = the article's id; the article and the unrelated one are their
 * own stories without duplicate_of. Checked in the alert stream: a rule with
 * `cooldown: 1h` counting per story fires once for the three copies and once
 * for the unrelated article, while a rule counting per rule with no cooldown
 * fires for all four (so the copies did reach the alert stage). Then one
 * copy is replayed (`replay: true` at the intake): it keeps the story it
 * carries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "wwtest.h"

#define BODY_A                                                                                     \
    "harbour authority on Tuesday approved a six month trial of night ferries between the old "  \
    "fish market and the northern islands, after residents complained that the last boat left "  \
    "before most restaurant shifts ended. Two refitted vessels will run every ninety minutes "    \
    "from ten in the evening until three in the morning. The authority said fares would match "  \
    "the daytime service and that the trial would be reviewed in the spring, when passenger "     \
    "counts and noise complaints from the waterfront will be published. Unions representing the " \
    "crews welcomed the plan but asked for "
#define BODY_B                                                                                     \
    " safety training for winter crossings. Local businesses on the islands said the change "    \
    "could bring hundreds of late visitors each weekend, while some residents near the terminal " \
    "worried about traffic."

/* Our own fixtures: one JSON object per line. */
static const char EVENTS[] =
    "{\"source\":\"wire\",\"url\":\"https://wire.example/ferry\",\"title\":\"Harbour authority "
    "approves night ferry trial across the bay\",\"body\":\"The " BODY_A "extra" BODY_B "\"}\n"
    "{\"source\":\"daily\",\"url\":\"https://daily.example/news/ferries\",\"title\":\"Harbour "
    "authority approves night ferry trial across the bay\",\"body\":\"By a staff reporter. The " BODY_A
    "additional" BODY_B "\"}\n"
    "{\"source\":\"gazette\",\"url\":\"https://gazette.example/b/123\",\"title\":\"HARBOUR "
    "AUTHORITY APPROVES NIGHT FERRY TRIAL ACROSS THE BAY!\",\"body\":\"The " BODY_A "extra" BODY_B
    " (Syndicated.)\"}\n"
    "{\"source\":\"wire\",\"url\":\"https://wire.example/orchestra\",\"title\":\"Orchestra cancels "
    "summer tour after violinists strike\",\"body\":\"The city orchestra called off its summer tour "
    "of three countries on Monday after its violin section walked out over rehearsal pay. "
    "Management said tickets for the twelve concerts would be refunded within a month, and that "
    "talks with the musicians would resume once a mediator had been appointed. The harbour "
    "festival that was to host the final concert is looking for a new act.\"}\n";

static const char *const URLS[4] = {"https://wire.example/ferry", "https://daily.example/news/ferries",
                                    "https://gazette.example/b/123", "https://wire.example/orchestra"};

static const char RULES[] = "rules:\n"
                            "  - id: per-story\n"
                            "    channel: harbour.story\n"
                            "    match: 'harbour'\n"
                            "    cooldown: 1h\n"
                            "    threshold: { count: 1, window: 1s, per: story }\n"
                            "  - id: every\n"
                            "    channel: harbour.all\n"
                            "    match: 'harbour'\n";

/* Waits until the alert stage evaluated `n` events. */
static void wait_events(const wwt_redis_t *r, long n)
{
    long until = wwt_ms() + 30000;
    while (wwt_ms() < until && wwt_redis_hget(r, "t:stats:alert", "events") < n)
        wwt_sleep_ms(50);
    assert_true(wwt_redis_hget(r, "t:stats:alert", "events") >= n);
    wwt_sleep_ms(300); /* the stream entries are written before the counters */
}

/* How many alerts of the stream name `channel` and contain `needle`. */
static int count_alerts(const wwt_redis_t *r, const char *channel, const char *needle)
{
    redisReply *rep = wwt_redis_cmd(r, "XRANGE t:alerts - +");
    assert_non_null(rep);
    int n = 0;
    for (size_t i = 0; i < rep->elements; i++) {
        redisReply *f = rep->element[i]->element[1];
        const char *ch = NULL;
        const redisReply *alert = NULL;
        for (size_t j = 0; j + 1 < f->elements; j += 2) {
            if (strcmp(f->element[j]->str, "channel") == 0)
                ch = f->element[j + 1]->str;
            else if (strcmp(f->element[j]->str, "alert") == 0)
                alert = f->element[j + 1];
        }
        if (ch && alert && strcmp(ch, channel) == 0 &&
            memmem(alert->str, alert->len, needle, strlen(needle)))
            n++;
    }
    freeReplyObject(rep);
    return n;
}

/* The archived events, by URL: ids, duplicate_of and story (NULL: absent). */
typedef struct {
    char *id, *dup, *story;
} seen_t;

static void read_archive(const char *archive, seen_t out[4])
{
    char *text = NULL;
    const char *args[] = {"archive", "cat", archive, NULL};
    assert_int_equal(wwt_run("wirewatch", args, NULL, &text, false), 0);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        const char *url = json_string_value(json_object_get(j, "url"));
        for (int k = 0; k < 4; k++) {
            if (!url || strcmp(url, URLS[k]) != 0)
                continue;
            assert_null(out[k].id); /* archived once */
            out[k].id = ww_strdup(json_string_value(json_object_get(j, "id")));
            out[k].dup = ww_strdup(json_string_value(json_object_get(j, "duplicate_of")));
            out[k].story = ww_strdup(json_string_value(json_object_get(j, "story")));
        }
        json_decref(j);
        lines++;
    }
    assert_int_equal(lines, 4);
    ww_free(text);
}

static void test_stories(void **state)
{
    (void)state;
    char *adir = wwt_tmpdir("stories-archive");
    char *extra = ww_asprintf("  archive: %s/a\n  archive_fsync: always\n", adir);
    wwt_pipeline_t p;
    assert_int_equal(wwt_pipeline_start_ex(&p, RULES, 1, 2, extra, false), 0);
    char *jsonl = wwt_write_file(p.dir, "events.jsonl", EVENTS);
    const char *pub[] = {"publish", jsonl, "-c", p.config, NULL};
    assert_int_equal(wwt_run("wirewatch", pub, NULL, NULL, false), 0);
    wait_events(&p.redis, 4);

    /* the rule without cooldown saw every article; the per-story rule fired
     * once for the three copies and once for the unrelated article */
    int every = 0;
    for (int k = 0; k < 4; k++) {
        assert_int_equal(count_alerts(&p.redis, "harbour.all", URLS[k]), 1);
        every++;
    }
    assert_int_equal(every, 4);
    int copies = 0;
    for (int k = 0; k < 3; k++)
        copies += count_alerts(&p.redis, "harbour.story", URLS[k]);
    assert_int_equal(copies, 1);
    assert_int_equal(count_alerts(&p.redis, "harbour.story", URLS[0]), 1); /* the first one */
    assert_int_equal(count_alerts(&p.redis, "harbour.story", URLS[3]), 1);

    char *archive = ww_asprintf("%s/a", adir);
    seen_t s[4] = {{0}};
    read_archive(archive, s);
    for (int k = 0; k < 4; k++) {
        assert_non_null(s[k].id);
        assert_non_null(s[k].story);
    }
    assert_null(s[0].dup);
    assert_string_equal(s[0].story, s[0].id);
    for (int k = 1; k < 3; k++) {
        assert_string_not_equal(s[k].id, s[0].id); /* different URLs: different ids */
        assert_non_null(s[k].dup);
        assert_string_equal(s[k].story, s[0].id);
        /* the nearest earlier one: the original or the other copy */
        assert_true(strcmp(s[k].dup, s[0].id) == 0 || strcmp(s[k].dup, s[3 - k].id) == 0);
    }
    assert_string_equal(s[1].dup, s[0].id); /* the first copy can only match the original */
    assert_null(s[3].dup);
    assert_string_equal(s[3].story, s[3].id);

    /* band sets exist in Redis, with a TTL */
    assert_true(wwt_redis_count_keys(&p.redis, "t:sim:*") >= 4);

    /* a replayed event keeps the story it carries (and skips dedup) */
    char *replayed = ww_asprintf("{\"replay\":true,\"id\":\"%s\",\"url\":\"%s\",\"title\":\"Harbour "
                                 "news again\",\"body\":\"harbour\",\"story\":\"feedfacefeedfacefeedface"
                                 "feedface\",\"duplicate_of\":\"%s\"}\n",
                                 s[2].id, URLS[2], s[0].id);
    char *rj = wwt_write_file(p.dir, "replay.jsonl", replayed);
    const char *pub2[] = {"publish", rj, "-c", p.config, NULL};
    assert_int_equal(wwt_run("wirewatch", pub2, NULL, NULL, false), 0);
    wait_events(&p.redis, 5);
    /* its story is new: the per-story rule fires for it */
    assert_int_equal(count_alerts(&p.redis, "harbour.story", "news again"), 1);

    assert_int_equal(wwt_pipeline_stop(&p), 0);
    for (int k = 0; k < 4; k++) {
        ww_free(s[k].id);
        ww_free(s[k].dup);
        ww_free(s[k].story);
    }
    ww_free(replayed);
    ww_free(rj);
    ww_free(archive);
    ww_free(jsonl);
    ww_free(extra);
    wwt_rmdir(adir);
    ww_free(adir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stories)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
