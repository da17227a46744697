/* test_html.c - HTML to clean text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/html.h"

static void check(const char *html, const char *want)
{
    char *got = ww_html_to_text(html, strlen(html));
    assert_string_equal(got, want);
    ww_free(got);
}

static void test_tags_and_blocks(void **state)
{
    (void)state;
    check("<p>One <b>bold</b> word.</p><p>Two</p>", "One bold word.\nTwo");
    check("a<br>b<br/>c", "a\nb\nc");
    check("<ul><li>x</li><li>y</li></ul>", "x\ny");
    check("<div><h1>Title</h1>text</div>", "Title\ntext");
    check("<span>in</span><span>line</span>", "inline");
    check("<table><tr><td>a</td><td>b</td></tr></table>", "a b");
    check("<p>unclosed <i>tags <b>everywhere", "unclosed tags everywhere");
}

static void test_removed(void **state)
{
    (void)state;
    check("<script>var x = '<p>no</p>';</script>kept", "kept");
    check("<style>p { color: red }</style><p>kept</p>", "kept");
    check("a<!-- hidden -->b", "ab");
    check("<noscript>nojs</noscript>yes", "yes");
    check("<html><head><title>t</title></head><body>body</body></html>", "body");
}

static void test_entities_and_space(void **state)
{
    (void)state;
    check("Fish &amp; chips &pound;5 &#8364;3 &#x2019;", "Fish & chips \xC2\xA3" "5 \xE2\x82\xAC" "3 \xE2\x80\x99");
    check("a&nbsp;&nbsp;b", "a b");
    check("  lots \t of\n\n   space  ", "lots of space");
    check("&lt;p&gt;", "<p>");
    check("zero\xE2\x80\x8Bwidth", "zerowidth");
    check("ctl\x01\x02 chars", "ctl chars");
    check("", "");
    check("plain text, no markup", "plain text, no markup");
}

static void test_bad_utf8(void **state)
{
    (void)state;
    char *got = ww_html_to_text("<p>bad \xff byte</p>", 16);
    assert_string_equal(got, "bad \xEF\xBF\xBD byte");
    ww_free(got);
    got = ww_text_normalize_space("l1\n\n\nl2  x\r\n", 12);
    assert_string_equal(got, "l1\nl2 x");
    ww_free(got);
    assert_true(ww_html_has_markup("a<b", 3));
    assert_false(ww_html_has_markup("ab", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags_and_blocks), cmocka_unit_test(test_removed),
        cmocka_unit_test(test_entities_and_space), cmocka_unit_test(test_bad_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
