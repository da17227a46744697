/* html.h - HTML to clean text (feed descriptions, article files).
 *
 * Uses libxml2's HTML parser (lenient, like a browser): tags are dropped,
 * <script>, <style>, <noscript>, <template>, <head> and comments are removed
 * with their content, entities are decoded, whitespace is normalised: runs of
 * spaces, tabs and newlines inside a block become one space, blocks (<p>,
 * <div>, <li>, <h1>..., <br>) are separated by one newline, no leading or
 * trailing whitespace. Non-breaking and zero-width spaces are spaces / gone;
 * control characters are dropped. The result is valid UTF-8. */
#ifndef WW_HTML_H
#define WW_HTML_H
#include <stdbool.h>
#include <stddef.h>

/* Converts html[0..len) (UTF-8; invalid bytes become U+FFFD) to text.
 * Never NULL: empty input gives "". Caller owns (ww_free). */
char *ww_html_to_text(const char *html, size_t len);

/* True when s[0..len) holds markup or an entity worth parsing ('<' or '&'). */
bool ww_html_has_markup(const char *s, size_t len);

/* Normalises whitespace of plain text the same way (no markup parsing):
 * collapses runs of blanks, keeps single newlines between lines, trims,
 * drops control characters. Caller owns. */
char *ww_text_normalize_space(const char *s, size_t len);
#endif
