/* test_simhash.c - SimHash: syndicated copies are near, unrelated texts far,
 * folding and punctuation do not matter, too-short texts have no hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ww/alloc.h"
#include "ww/simhash.h"

/* Our own fixture texts (not copied from anywhere). */
static const char *const T_ORIG = "Harbour authority approves night ferry trial across the bay";
static const char *const B_ORIG =
    "The harbour authority on Tuesday approved a six month trial of night ferries between the "
    "old fish market and the northern islands, after residents complained that the last boat "
    "left before most restaurant shifts ended. Two refitted vessels will run every ninety "
    "minutes from ten in the evening until three in the morning. The authority said fares would "
    "match the daytime service and that the trial would be reviewed in the spring, when "
    "passenger counts and noise complaints from the waterfront will be published. Unions "
    "representing the crews welcomed the plan but asked for extra safety training for winter "
    "crossings. Local businesses on the islands said the change could bring hundreds of late "
    "visitors each weekend, while some residents near the terminal worried about traffic.";

/* the same article, syndicated: a byline, a changed word and a closing line */
static const char *const T_COPY1 = "Harbour authority approves night ferry trial across the bay";
static const char *const B_COPY1 =
    "By a staff reporter. The harbour authority on Tuesday approved a six month trial of night "
    "ferries between the old fish market and the northern islands, after residents complained "
    "that the last boat left before most restaurant shifts ended. Two refitted vessels will run "
    "every ninety minutes from ten in the evening until three in the morning. The authority "
    "said fares would match the daytime service and that the trial would be reviewed in the "
    "spring, when passenger counts and noise complaints from the waterfront will be published. "
    "Unions representing the crews welcomed the plan but asked for additional safety training "
    "for winter crossings. Local businesses on the islands said the change could bring hundreds "
    "of late visitors each weekend, while some residents near the terminal worried about "
    "traffic.";

/* another copy: different title casing and punctuation, one word changed */
static const char *const T_COPY2 = "HARBOUR AUTHORITY APPROVES NIGHT FERRY TRIAL ACROSS THE BAY!";
static const char *const B_COPY2 =
    "The harbour authority on Tuesday approved a six-month trial of night ferries between the "
    "old fish market and the northern islands -- after residents complained that the last boat "
    "left before most restaurant shifts ended. Two refitted ships will run every ninety "
    "minutes from ten in the evening until three in the morning. The authority said fares would "
    "match the daytime service and that the trial would be reviewed in the spring, when "
    "passenger counts and noise complaints from the waterfront will be published. Unions "
    "representing the crews welcomed the plan but asked for extra safety training for winter "
    "crossings. Local businesses on the islands said the change could bring hundreds of late "
    "visitors each weekend, while some residents near the terminal worried about traffic.";

static const char *const T_OTHER = "Orchestra cancels summer tour after violinists strike";
static const char *const B_OTHER =
    "The city orchestra called off its summer tour of three countries on Monday after its "
    "violin section walked out over rehearsal pay. Management said tickets for the twelve "
    "concerts would be refunded within a month, and that talks with the musicians would resume "
    "once a mediator had been appointed. The strike is the first in the orchestra's history. "
    "Several soloists who had been booked for the tour said they regretted the decision but "
    "supported the players, and a rival ensemble offered to take over two of the dates.";

/* the same topic as the original, but a different article */
static const char *const T_RELATED = "Night ferries to start next month, islanders told";
static const char *const B_RELATED =
    "Islanders gathered at the community hall on Thursday to hear how the new night ferries "
    "will work. Timetables will be posted at every pier, and the first crossing leaves the "
    "mainland at ten in the evening. Several fishermen asked whether the boats would share the "
    "narrow channel with trawlers returning after dark; officials promised lights on the buoys.";

static uint64_t sh(const char *t, const char *b)
{
    uint64_t h = 0;
    assert_int_equal(ww_simhash_text(t, b, &h), 0);
    return h;
}

static void test_copies_are_near(void **state)
{
    (void)state;
    uint64_t o = sh(T_ORIG, B_ORIG), c1 = sh(T_COPY1, B_COPY1), c2 = sh(T_COPY2, B_COPY2);
    printf("# distances: copy1 %d copy2 %d copy1-copy2 %d\n", ww_simhash_distance(o, c1),
           ww_simhash_distance(o, c2), ww_simhash_distance(c1, c2));
    assert_true(ww_simhash_distance(o, c1) <= WW_SIMHASH_NEAR);
    assert_true(ww_simhash_distance(o, c2) <= WW_SIMHASH_NEAR);
    assert_true(ww_simhash_near(o, c1));
    /* near means at least one band is equal (what the Redis lookup relies on) */
    for (int pair = 0; pair < 2; pair++) {
        uint64_t c = pair ? c2 : c1;
        int eq = 0;
        for (int b = 0; b < WW_SIMHASH_BANDS; b++)
            eq += ww_simhash_band(o, b) == ww_simhash_band(c, b);
        assert_true(eq >= 1);
    }
}

static void test_unrelated_are_far(void **state)
{
    (void)state;
    uint64_t o = sh(T_ORIG, B_ORIG), x = sh(T_OTHER, B_OTHER), r = sh(T_RELATED, B_RELATED);
    printf("# distances: other %d related %d\n", ww_simhash_distance(o, x), ww_simhash_distance(o, r));
    assert_true(ww_simhash_distance(o, x) > 12);
    assert_true(ww_simhash_distance(o, r) > 12);
    assert_false(ww_simhash_near(x, r));
}

/* Case and punctuation are not words: only the word sequence counts. */
static void test_folding_and_punctuation(void **state)
{
    (void)state;
    uint64_t a = sh(NULL, "one two three four five six seven eight nine ten");
    uint64_t b = sh(NULL, "ONE, two; Three -- four five: six seven (eight) nine ten!");
    assert_true(a == b);
    /* the title is part of the text: title+body equals the same words in the body */
    uint64_t c = sh("one two three", "four five six seven eight nine ten");
    assert_true(a == c);
    /* order matters (shingles), so a shuffled text is a different text */
    uint64_t d = sh(NULL, "ten nine eight seven six five four three two one");
    assert_true(a != d);
}

static void test_too_short(void **state)
{
    (void)state;
    uint64_t h = 42;
    assert_int_equal(ww_simhash_text("Live updates", NULL, &h), -1);
    assert_int_equal(ww_simhash_text(NULL, NULL, &h), -1);
    assert_int_equal(ww_simhash_text("", "a b c d e f g", &h), -1);
    assert_int_equal(h, 42);
    assert_int_equal(ww_simhash_text("", "a b c d e f g h", &h), 0);
}

static void test_distance_and_bands(void **state)
{
    (void)state;
    assert_int_equal(ww_simhash_distance(0, 0), 0);
    assert_int_equal(ww_simhash_distance(0, UINT64_MAX), 64);
    assert_int_equal(ww_simhash_distance(0x8000000000000001ull, 1), 1);
    assert_int_equal(ww_simhash_band(0x1111222233334444ull, 0), 0x4444);
    assert_int_equal(ww_simhash_band(0x1111222233334444ull, 3), 0x1111);
    assert_true(ww_simhash_near(0xF, 0x8));
    assert_false(ww_simhash_near(0xF, 0x0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_are_near),
        cmocka_unit_test(test_unrelated_are_far),
        cmocka_unit_test(test_folding_and_punctuation),
        cmocka_unit_test(test_too_short),
        cmocka_unit_test(test_distance_and_bands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
