/* test_datetime.c - RFC 822 and RFC 3339 dates with real-world variants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ww/datetime.h"

/* 2003-06-10T04:00:00Z */
#define T0 INT64_C(1055217600000)

static int64_t parse(const char *s)
{
    int64_t ms = -1;
    if (ww_datetime_parse(s, &ms) < 0)
        return INT64_MIN;
    return ms;
}

static void test_rfc822(void **state)
{
    (void)state;
    assert_int_equal(parse("Tue, 10 Jun 2003 04:00:00 GMT"), T0);
    assert_int_equal(parse("Tue, 10 Jun 2003 04:00:00 +0000"), T0);
    assert_int_equal(parse("Tue, 10 Jun 2003 04:00:00 -0000"), T0);
    assert_int_equal(parse("10 Jun 2003 04:00:00 Z"), T0);
    assert_int_equal(parse("Tue 10 Jun 2003 04:00 GMT"), T0);          /* no comma, no seconds */
    assert_int_equal(parse("Tuesday, 10 June 2003 04:00:00 UT"), T0);  /* full names */
    assert_int_equal(parse("Tue, 10 Jun 03 04:00:00 GMT"), T0);        /* two-digit year */
    assert_int_equal(parse("Tue, 10 Jun 2003 00:00:00 EDT"), T0);      /* US zone */
    assert_int_equal(parse("Tue, 10 Jun 2003 06:00:00 +02:00"), T0);   /* colon in the zone */
    assert_int_equal(parse("Tue, 10 Jun 2003 09:30:00 +0530"), T0);
    assert_int_equal(parse("Mon, 9 Jun 2003 21:00:00 PDT"), T0);       /* one-digit day, crosses midnight */
    assert_int_equal(parse("  tue, 10 jun 2003 04:00:00 gmt  "), T0);  /* case and blanks */
    assert_int_equal(parse("Tue, 10 Jun 2003 04:00:00"), T0);          /* no zone: UTC */
    assert_int_equal(parse("Tue Jun 10 04:00:00 2003"), T0);           /* asctime */
    assert_int_equal(parse("Tue, 10 Jun 2003 04:00:00 GMT (Coordinated)"), T0);
    assert_int_equal(parse("Tue, 10 Jun 2003 04:00:00 XYZ"), T0);      /* unknown zone = -0000 */
    assert_int_equal(parse("Tue, 10 Jun 2003 4:00:00 am GMT"), T0);
    assert_int_equal(parse("Sat, 07 Sept 2024 10:00:00 GMT"), INT64_C(1725703200000));
    assert_int_equal(parse("Sun, 7 Jan 24 13:05 CET"), INT64_C(1704629100000));
}

static void test_rfc3339(void **state)
{
    (void)state;
    assert_int_equal(parse("2003-06-10T04:00:00Z"), T0);
    assert_int_equal(parse("2003-06-10T04:00:00.250Z"), T0 + 250);
    assert_int_equal(parse("2003-06-10T04:00:00.5Z"), T0 + 500);
    assert_int_equal(parse("2003-06-10T06:00:00+02:00"), T0);
    assert_int_equal(parse("2003-06-10T00:00:00-0400"), T0);
    assert_int_equal(parse("2003-06-10 04:00:00"), T0);                /* space, no zone */
    assert_int_equal(parse("2003-06-10t04:00z"), T0);                  /* lower case, no seconds */
    assert_int_equal(parse("20030610T040000Z"), T0);                   /* compact */
    assert_int_equal(parse("2003-06-10"), T0 - 4 * 3600 * 1000);       /* date only */
    assert_int_equal(parse("2016-12-31T23:59:60Z"), INT64_C(1483228799000)); /* leap second */
    assert_int_equal(parse("1969-12-31T23:59:59Z"), INT64_C(-1000));
    assert_int_equal(parse("2024-02-29T00:00:00Z"), INT64_C(1709164800000));
}

static void test_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"", "   ", "yesterday", "2003-13-10T04:00:00Z", "2003-02-30", "2023-02-29",
                         "2003-06-10T25:00:00Z", "2003-06-10T04:61:00Z", "Tue, 32 Jun 2003 04:00:00 GMT",
                         "Tue, 10 Foo 2003 04:00:00 GMT", "10 Jun", "2003-06-10T04:00:00+2500",
                         "2003-06-10T04:00:00Zjunk", "\xce\xa4\xcf\x81\xce\xb9, 29 \xce\x99\xce\xbf\xcf\x8d\xce\xbd 2004",
                         "Tue, 10 Jun 2003 04:00:00 GMT GMT +0100 +0200", NULL};
    for (int i = 0; bad[i]; i++) {
        int64_t ms = 42;
        assert_int_equal(ww_datetime_parse(bad[i], &ms), -1);
    }
    assert_int_equal(ww_datetime_parse(NULL, NULL), -1);
}

static void test_format_roundtrip(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(ww_datetime_format(T0 + 7, buf, sizeof buf), "2003-06-10T04:00:00.007Z");
    assert_string_equal(ww_datetime_format_rfc822(T0, buf, sizeof buf), "Tue, 10 Jun 2003 04:00:00 +0000");
    for (int64_t t = INT64_C(-86400000) * 400; t < INT64_C(4102444800000); t += INT64_C(86400000) * 97 + 12345) {
        ww_datetime_format(t, buf, sizeof buf);
        assert_int_equal(parse(buf), t);
        ww_datetime_format_rfc822(t, buf, sizeof buf);
        assert_int_equal(parse(buf), t - t % 1000 - (t % 1000 < 0 ? 1000 : 0));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc822), cmocka_unit_test(test_rfc3339), cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_format_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
