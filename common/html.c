/* html.c - HTML to clean text with libxml2's HTML parser (see html.h).
 *
 * The parser builds a tree the way browsers recover broken markup; we walk it
 * once, appending text nodes to an output buffer through a small whitespace
 * state machine (pending space / pending newline), so the result never holds
 * two blanks in a row or a blank at either end. */
#include "ww/html.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/event.h"

/* Output buffer with the whitespace state. */
typedef struct {
    char *buf;
    size_t len, cap;
    int pending; /* 0 none, 1 a space, 2 a newline owed before the next text */
} ww_textbuf_t;

static void tb_raw(ww_textbuf_t *b, const char *s, size_t n)
{
    WW_GROW(b->buf, b->cap, b->len + n + 1);
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

/* Appends text, collapsing whitespace. s is UTF-8. */
static void tb_text(ww_textbuf_t *b, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t adv = 1;
        bool blank = false, drop = false;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            blank = true;
        else if (c < 0x20 || c == 0x7f)
            drop = true;
        else if (c == 0xc2 && i + 1 < n && s[i + 1] == 0xa0) { /* U+00A0 */
            blank = true;
            adv = 2;
        } else if (c == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) { /* C1 controls */
            drop = true;
            adv = 2;
        } else if (c == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
                   ((s[i + 2] >= 0x80 && s[i + 2] <= 0x8a) || s[i + 2] == 0xaf)) { /* U+2000..200A, 202F */
            blank = true;
            adv = 3;
        } else if (c == 0xe2 && i + 2 < n && s[i + 1] == 0x80 && s[i + 2] >= 0x8b && s[i + 2] <= 0x8d) {
            drop = true; /* zero-width space / joiners */
            adv = 3;
        } else if (c == 0xef && i + 2 < n && s[i + 1] == 0xbb && s[i + 2] == 0xbf) {
            drop = true; /* U+FEFF */
            adv = 3;
        }
        if (blank) {
            if (b->pending < 1)
                b->pending = 1;
        } else if (!drop) {
            if (b->len && b->pending)
                tb_raw(b, b->pending == 2 ? "\n" : " ", 1);
            b->pending = 0;
            size_t j = i + adv;
            /* copy a run of ordinary bytes at once */
            while (j < n && s[j] > 0x20 && s[j] != 0x7f && s[j] != 0xc2 && s[j] != 0xe2 && s[j] != 0xef)
                j++;
            tb_raw(b, (const char *)s + i, j - i);
            adv = j - i;
        }
        i += adv;
    }
}

static void tb_break(ww_textbuf_t *b)
{
    b->pending = 2;
}

static bool is_skipped(const char *name)
{
    static const char *const skip[] = {"script", "style", "noscript", "template", "head",
                                       "iframe", "object", "svg", "math", "select", NULL};
    for (int i = 0; skip[i]; i++)
        if (strcasecmp(name, skip[i]) == 0)
            return true;
    return false;
}

static bool is_block(const char *name)
{
    static const char *const block[] = {
        "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
        "tr", "table", "blockquote", "pre", "section", "article", "header", "footer", "aside",
        "nav", "figure", "figcaption", "hr", "address", "main", "form", "fieldset", "caption",
        "title", "body", "html", NULL};
    for (int i = 0; block[i]; i++)
        if (strcasecmp(name, block[i]) == 0)
            return true;
    return false;
}

static void walk(ww_textbuf_t *b, xmlNode *n, int depth)
{
    for (; n; n = n->next) {
        switch (n->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (n->content)
                tb_text(b, n->content, strlen((const char *)n->content));
            break;
        case XML_ELEMENT_NODE: {
            const char *name = (const char *)n->name;
            if (is_skipped(name))
                break;
            bool block = is_block(name);
            if (block)
                tb_break(b);
            else if (strcasecmp(name, "td") == 0 || strcasecmp(name, "th") == 0 ||
                     strcasecmp(name, "img") == 0) {
                if (b->pending < 1)
                    b->pending = 1;
            }
            if (depth < 256)
                walk(b, n->children, depth + 1);
            if (block)
                tb_break(b);
            break;
        }
        default:
            break;
        }
    }
}

bool ww_html_has_markup(const char *s, size_t len)
{
    return memchr(s, '<', len) || memchr(s, '&', len);
}

char *ww_text_normalize_space(const char *s, size_t len)
{
    bool rep;
    char *clean = ww_utf8_repair(s, len, &rep);
    ww_textbuf_t b = {NULL, 0, 0, 0};
    tb_raw(&b, "", 0);
    /* lines: keep one newline between non-empty lines */
    const char *p = clean;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t before = b.len;
        tb_text(&b, (const unsigned char *)p, n);
        if (b.len > before)
            tb_break(&b);
        p += n + (nl ? 1 : 0);
    }
    ww_free(clean);
    return b.buf;
}

char *ww_html_to_text(const char *html, size_t len)
{
    if (!html || !len)
        return ww_strdup("");
    bool rep;
    char *clean = ww_utf8_repair(html, len, &rep);
    size_t clen = strlen(clean);
    ww_textbuf_t b = {NULL, 0, 0, 0};
    tb_raw(&b, "", 0);
    if (!ww_html_has_markup(clean, clen)) { /* fast path: only whitespace to fold */
        tb_text(&b, (const unsigned char *)clean, clen);
        ww_free(clean);
        return b.buf;
    }
    if (clen > (size_t)INT32_MAX) {
        ww_free(clean);
        return b.buf;
    }
    htmlDocPtr doc = htmlReadMemory(clean, (int)clen, NULL, "UTF-8",
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                        HTML_PARSE_NONET);
    if (doc) {
        walk(&b, doc->children, 0);
        xmlFreeDoc(doc);
    }
    ww_free(clean);
    return b.buf;
}
