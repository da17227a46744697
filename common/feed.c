/* feed.c - RSS / RDF / Atom parsing with libxml2 (see feed.h).
 *
 * Three steps:
 *   1. prepare(): bytes -> UTF-8 (BOM, declaration, HTTP charset, detection),
 *      then a single pass that repairs what makes strict XML parsers give up
 *      (bare '&', HTML named entities, control characters, an XML declaration
 *      that is not first) outside comments and CDATA sections;
 *   2. libxml2 in recover mode, no network, no entity substitution (so no
 *      external entities and no entity expansion bombs);
 *   3. a walk over the tree by local element names, tolerant of missing or
 *      undeclared namespaces, filling ww_feed_t. */
#include "ww/feed.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/datetime.h"
#include "ww/html.h"
#include "ww/text.h"

/* ---- growable byte buffer ------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
} ww_buf_t;

static void buf_add(ww_buf_t *b, const char *s, size_t n)
{
    WW_GROW(b->p, b->cap, b->len + n + 1);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_addc(ww_buf_t *b, char c)
{
    buf_add(b, &c, 1);
}

/* ---- character sets -------------------------------------------------------------- */

/* Decodes one UTF-8 sequence at s[0..n). Returns its length and *cp, or 0
 * when the bytes are not valid UTF-8 (overlongs and surrogates refused). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static bool utf8_valid(const char *s, size_t n, size_t *multibyte)
{
    size_t mb = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k)
            return false;
        mb += k > 1;
        i += k;
    }
    if (multibyte)
        *multibyte = mb;
    return true;
}

char *ww_charset_to_utf8(const char *buf, size_t len, const char *charset, size_t *outlen, bool *repaired)
{
    if (repaired)
        *repaired = false;
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return NULL;
    ww_buf_t b = {NULL, 0, 0};
    WW_GROW(b.p, b.cap, len * 2 + 16);
    char *in = (char *)buf;
    size_t inleft = len;
    while (inleft) {
        char *out = b.p + b.len;
        size_t outleft = b.cap - b.len - 1;
        size_t r = iconv(cd, &in, &inleft, &out, &outleft);
        b.len = (size_t)(out - b.p);
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            WW_GROW(b.p, b.cap, b.cap * 2);
        } else { /* EILSEQ or EINVAL (truncated at the end): one replacement char, skip a byte */
            buf_add(&b, "\xEF\xBF\xBD", 3);
            in++;
            inleft--;
            if (repaired)
                *repaired = true;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    iconv_close(cd);
    WW_GROW(b.p, b.cap, b.len + 1);
    b.p[b.len] = '\0';
    *outlen = b.len;
    return b.p;
}

const char *ww_charset_detect(const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t mb = 0;
    if (utf8_valid(buf, len, &mb))
        return "UTF-8";
    /* many valid multi-byte sequences and a few bad bytes: broken UTF-8, repair it */
    size_t high = 0, c1 = 0, upper = 0, adjacent = 0, good_utf8 = 0;
    bool sjis = true;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x80)
            continue;
        high++;
        if (s[i] < 0xa0)
            c1++;
        if (s[i] >= 0xc0)
            upper++;
        if ((i > 0 && s[i - 1] >= 0x80) || (i + 1 < len && s[i + 1] >= 0x80))
            adjacent++;
        uint32_t cp;
        size_t k = utf8_decode(s + i, len - i, &cp);
        if (k > 1) {
            good_utf8 += k;
            high += k - 1;
            i += k - 1;
        }
    }
    if (good_utf8 * 2 >= high)
        return "UTF-8";
    for (size_t i = 0; i < len && sjis; i++) {
        unsigned char c = s[i];
        if (c < 0x80 || (c >= 0xa1 && c <= 0xdf))
            continue;
        if (((c >= 0x81 && c <= 0x9f) || (c >= 0xe0 && c <= 0xfc)) && i + 1 < len &&
            ((s[i + 1] >= 0x40 && s[i + 1] <= 0x7e) || (s[i + 1] >= 0x80 && s[i + 1] <= 0xfc)))
            i++;
        else
            sjis = false;
    }
    if (sjis && c1 * 5 >= high)
        return "SHIFT_JIS";
    if (high && adjacent * 10 >= high * 6 && upper * 10 >= high * 9) {
        /* Cyrillic in a single-byte set: KOI8-R has lower case at C0-DF, windows-1251 at E0-FF */
        size_t lo = 0, hi = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] >= 0xc0 && s[i] <= 0xdf)
                lo++;
            else if (s[i] >= 0xe0)
                hi++;
        }
        return lo > hi ? "KOI8-R" : "WINDOWS-1251";
    }
    return "WINDOWS-1252";
}

/* windows-1252 0x80..0x9F as code points (0: undefined). */
static const uint16_t ww_cp1252[32] = {0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
                                       0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017d, 0,
                                       0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
                                       0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0};

char *ww_fix_mojibake(const char *s)
{
    size_t n = strlen(s);
    ww_buf_t b = {NULL, 0, 0};
    bool any_high = false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k)
            goto no;
        i += k;
        if (cp < 0x100) {
            buf_addc(&b, (char)cp);
            any_high |= cp >= 0x80;
            continue;
        }
        int byte = -1;
        for (int j = 0; j < 32; j++)
            if (ww_cp1252[j] == cp)
                byte = 0x80 + j;
        if (byte < 0)
            goto no;
        buf_addc(&b, (char)byte);
        any_high = true;
    }
    size_t mb = 0;
    if (!any_high || !utf8_valid(b.p, b.len, &mb) || !mb)
        goto no;
    return b.p;
no:
    ww_free(b.p);
    return NULL;
}

/* ---- step 1: prepare the bytes --------------------------------------------------- */

/* Finds `<?xml ... ?>` among the first bytes (after blanks and comments only).
 * Sets *start and *end (end past "?>") and copies the encoding pseudo-attribute
 * into enc. Returns true when found. */
static bool find_xml_decl(const char *s, size_t n, size_t *start, size_t *end, char *enc, size_t enclen)
{
    enc[0] = '\0';
    size_t i = 0;
    while (i < n) {
        while (i < n && (isspace((unsigned char)s[i])))
            i++;
        if (i + 4 <= n && memcmp(s + i, "<!--", 4) == 0) {
            const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
            if (!e)
                return false;
            i = (size_t)(e - s) + 3;
            continue;
        }
        break;
    }
    if (i + 6 > n || memcmp(s + i, "<?xml", 5) != 0 || !isspace((unsigned char)s[i + 5]))
        return false;
    const char *e = memmem(s + i, n - i < 1024 ? n - i : 1024, "?>", 2);
    if (!e)
        return false;
    *start = i;
    *end = (size_t)(e - s) + 2;
    const char *a = memmem(s + i, (size_t)(e - s) - i, "encoding", 8);
    if (a) {
        a += 8;
        while (a < e && (isspace((unsigned char)*a) || *a == '='))
            a++;
        if (a < e && (*a == '"' || *a == '\'')) {
            char q = *a++;
            size_t k = 0;
            while (a < e && *a != q && k + 1 < enclen)
                enc[k++] = *a++;
            enc[k] = '\0';
        }
    }
    return true;
}

static bool is_name_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || isdigit(c) || c == '-' || c == '.';
}

/* Repairs entities and control characters in UTF-8 s[0..n), appending to out.
 * Returns the number of repairs. */
static unsigned repair_markup(const char *s, size_t n, ww_buf_t *out)
{
    unsigned repairs = 0;
    bool has_entity_decls = memmem(s, n, "<!ENTITY", 8) != NULL;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<' && i + 9 <= n && memcmp(s + i, "<![CDATA[", 9) == 0) {
            const char *e = memmem(s + i + 9, n - i - 9, "]]>", 3);
            size_t stop = e ? (size_t)(e - s) + 3 : n;
            for (size_t j = i; j < stop; j++) {
                unsigned char d = (unsigned char)s[j];
                if (d < 0x20 && d != '\t' && d != '\n' && d != '\r')
                    repairs++;
                else
                    buf_addc(out, (char)d);
            }
            if (!e) {
                repairs++;
                buf_add(out, "]]>", 3); /* an unfinished CDATA section is closed */
            }
            i = stop;
            continue;
        }
        if (c == '<' && i + 4 <= n && memcmp(s + i, "<!--", 4) == 0) {
            const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
            size_t stop = e ? (size_t)(e - s) + 3 : n;
            if (e)
                buf_add(out, s + i, stop - i);
            else
                repairs++; /* an unfinished comment is dropped */
            i = stop;
            continue;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            repairs++;
            i++;
            continue;
        }
        if (c != '&') {
            size_t j = i + 1;
            while (j < n && s[j] != '&' && s[j] != '<' && (unsigned char)s[j] >= 0x20)
                j++;
            if (j < n && s[j] == '<' && !(j + 4 <= n && s[j + 1] == '!')) {
                buf_add(out, s + i, j + 1 - i);
                i = j + 1;
            } else {
                buf_add(out, s + i, j - i);
                i = j;
            }
            continue;
        }
        /* an ampersand */
        size_t j = i + 1;
        if (j < n && s[j] == '#') {
            j++;
            bool hex = j < n && (s[j] == 'x' || s[j] == 'X');
            if (hex)
                j++;
            size_t d0 = j;
            uint32_t v = 0;
            while (j < n && (hex ? isxdigit((unsigned char)s[j]) : isdigit((unsigned char)s[j])) && j - d0 < 8) {
                int dv = isdigit((unsigned char)s[j]) ? s[j] - '0' : (tolower((unsigned char)s[j]) - 'a' + 10);
                v = v * (hex ? 16 : 10) + (uint32_t)dv;
                j++;
            }
            if (j > d0 && j < n && s[j] == ';') {
                bool legal = v == 0x9 || v == 0xa || v == 0xd || (v >= 0x20 && v <= 0xd7ff) ||
                             (v >= 0xe000 && v <= 0xfffd) || (v >= 0x10000 && v <= 0x10ffff);
                if (legal)
                    buf_add(out, s + i, j + 1 - i);
                else
                    repairs++;
                i = j + 1;
                continue;
            }
        } else if (j < n && is_name_start((unsigned char)s[j])) {
            size_t k = j;
            while (k < n && is_name_char((unsigned char)s[k]) && k - j < 32)
                k++;
            if (k < n && s[k] == ';') {
                char name[40];
                memcpy(name, s + j, k - j);
                name[k - j] = '\0';
                if (!strcmp(name, "amp") || !strcmp(name, "lt") || !strcmp(name, "gt") ||
                    !strcmp(name, "quot") || !strcmp(name, "apos") || has_entity_decls) {
                    buf_add(out, s + i, k + 1 - i);
                } else {
                    const htmlEntityDesc *ent = htmlEntityLookup((const xmlChar *)name);
                    char num[16];
                    if (ent)
                        snprintf(num, sizeof num, "&#%u;", ent->value);
                    else
                        snprintf(num, sizeof num, "&amp;");
                    buf_add(out, num, strlen(num));
                    if (!ent)
                        buf_add(out, s + j, k + 1 - j);
                    repairs++;
                }
                i = k + 1;
                continue;
            }
        }
        buf_add(out, "&amp;", 5); /* a bare ampersand */
        repairs++;
        i++;
    }
    return repairs;
}

/* Produces the UTF-8 document to hand to libxml2. Caller owns the result. */
static char *prepare(const char *buf, size_t len, const char *charset, size_t *outlen, char **enc_used,
                     unsigned *repairs)
{
    const char *s = buf;
    size_t n = len;
    const char *enc = NULL;
    char declared[64];
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
        enc = "UTF-8";
    } else if (n >= 2 && (memcmp(s, "\xFF\xFE", 2) == 0 || memcmp(s, "\xFE\xFF", 2) == 0)) {
        enc = (unsigned char)s[0] == 0xff ? "UTF-16LE" : "UTF-16BE";
        s += 2;
        n -= 2;
    } else if (n >= 4 && s[0] == '<' && s[1] == 0 && s[2] != 0) {
        enc = "UTF-16LE";
    } else if (n >= 4 && s[0] == 0 && s[1] == '<') {
        enc = "UTF-16BE";
    }
    char *utf8 = NULL;
    size_t ulen = 0;
    bool rep = false;
    if (enc && strcmp(enc, "UTF-8") != 0)
        utf8 = ww_charset_to_utf8(s, n, enc, &ulen, &rep);
    else {
        size_t ds, de;
        if (!enc && find_xml_decl(s, n, &ds, &de, declared, sizeof declared) && declared[0]) {
            iconv_t cd = iconv_open("UTF-8", declared);
            if (cd != (iconv_t)-1) {
                iconv_close(cd);
                enc = declared;
            } else
                (*repairs)++; /* a bogus encoding name: detect instead */
        }
        if (!enc && charset && *charset) {
            iconv_t cd = iconv_open("UTF-8", charset);
            if (cd != (iconv_t)-1) {
                iconv_close(cd);
                enc = charset;
            }
        }
        if (!enc) {
            enc = ww_charset_detect(s, n);
            if (strcmp(enc, "UTF-8") != 0)
                (*repairs)++; /* undeclared non-UTF-8 bytes: a defect, even if detected */
        }
        if (strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0) {
            enc = "UTF-8";
            utf8 = ww_utf8_repair(s, n, &rep);
            ulen = strlen(utf8);
            /* NULs were removed; fine for XML, which may not hold them */
        } else
            utf8 = ww_charset_to_utf8(s, n, enc, &ulen, &rep);
    }
    if (!utf8) { /* cannot happen for the names above; be safe */
        utf8 = ww_utf8_repair(s, n, &rep);
        ulen = strlen(utf8);
        enc = "UTF-8";
    }
    if (rep)
        (*repairs)++;
    *enc_used = ww_strdup(enc);
    for (char *p = *enc_used; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    /* drop the declaration (the bytes are UTF-8 now) and anything blank before markup */
    size_t ds = 0, de = 0, off = 0;
    char dummy[8];
    if (find_xml_decl(utf8, ulen, &ds, &de, dummy, sizeof dummy)) {
        if (ds != 0)
            (*repairs)++;
        memset(utf8 + ds, ' ', de - ds);
    }
    while (off < ulen && isspace((unsigned char)utf8[off]))
        off++;
    ww_buf_t out = {NULL, 0, 0};
    WW_GROW(out.p, out.cap, ulen - off + 64);
    buf_add(&out, "", 0);
    *repairs += repair_markup(utf8 + off, ulen - off, &out);
    ww_free(utf8);
    *outlen = out.len;
    return out.p;
}

/* ---- step 3: walking the tree ------------------------------------------------------ */

static const char *local_name(const xmlNode *n)
{
    const char *name = (const char *)n->name;
    if (!n->ns) {
        const char *c = strchr(name, ':');
        if (c)
            return c + 1;
    }
    return name;
}

/* The namespace hint of n: its URI, or the undeclared prefix, or "". */
static const char *ns_of(const xmlNode *n)
{
    if (n->ns && n->ns->href)
        return (const char *)n->ns->href;
    if (!n->ns && strchr((const char *)n->name, ':'))
        return (const char *)n->name; /* "content:encoded": the prefix is in the name */
    return "";
}

static bool is_elem(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE && strcmp(local_name(n), local) == 0;
}

/* Raw text of n's descendants; undefined entity references are kept as
 * "&name;" so that the HTML step decodes them. */
static void raw_text(const xmlNode *n, ww_buf_t *b, int depth)
{
    for (const xmlNode *c = n->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            buf_add(b, (const char *)c->content, strlen((const char *)c->content));
        else if (c->type == XML_ENTITY_REF_NODE) {
            buf_addc(b, '&');
            buf_add(b, (const char *)c->name, strlen((const char *)c->name));
            buf_addc(b, ';');
        } else if (c->type == XML_ELEMENT_NODE && depth < 64)
            raw_text(c, b, depth + 1);
    }
}

/* Serialises n's children as markup (for xhtml content, or RSS descriptions
 * whose HTML was not escaped and so became elements). */
static void markup_of(xmlNode *n, ww_buf_t *b)
{
    xmlBufferPtr xb = xmlBufferCreate();
    for (xmlNode *c = n->children; c; c = c->next)
        xmlNodeDump(xb, n->doc, c, 0, 0);
    buf_add(b, (const char *)xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
    xmlBufferFree(xb);
}

static bool has_element_child(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

/* Applies the mojibake repair to s in place when it applies. */
static void unmojibake(char **s)
{
    char *fixed = ww_fix_mojibake(*s);
    if (fixed) {
        ww_free(*s);
        *s = fixed;
    }
}

/* Clean text of an element. as_html: the text is HTML (RSS description,
 * Atom type="html"); xhtml: the children are XHTML elements. NULL when empty. */
static char *elem_text(xmlNode *n, bool as_html)
{
    ww_buf_t b = {NULL, 0, 0};
    buf_add(&b, "", 0);
    const xmlChar *type = NULL;
    xmlChar *t = xmlGetProp(n, (const xmlChar *)"type");
    type = t;
    bool xhtml = (type && strstr((const char *)type, "xhtml")) || has_element_child(n);
    if (type && !xhtml)
        as_html = strstr((const char *)type, "html") != NULL || as_html;
    if (xhtml) {
        markup_of(n, &b);
        as_html = true;
    } else
        raw_text(n, &b, 0);
    xmlFree(t);
    unmojibake(&b.p);
    char *out = as_html || ww_html_has_markup(b.p, strlen(b.p)) ? ww_html_to_text(b.p, strlen(b.p))
                                                                  : ww_text_normalize_space(b.p, strlen(b.p));
    ww_free(b.p);
    if (!*out) {
        ww_free(out);
        return NULL;
    }
    return out;
}

/* Trimmed raw text (links, ids, dates). NULL when empty. */
static char *elem_raw(xmlNode *n)
{
    ww_buf_t b = {NULL, 0, 0};
    buf_add(&b, "", 0);
    raw_text(n, &b, 0);
    char *s = b.p, *e = b.p + b.len;
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    char *out = e > s ? ww_strndup(s, (size_t)(e - s)) : NULL;
    ww_free(b.p);
    return out;
}

/* Resolves a link against xml:base and the document URL. Caller owns. */
static char *resolve(xmlNode *n, const char *link)
{
    if (!link)
        return NULL;
    xmlChar *base = xmlNodeGetBase(n->doc, n);
    char *out = NULL;
    if (base) {
        xmlChar *abs = xmlBuildURI((const xmlChar *)link, base);
        if (abs) {
            out = ww_strdup((const char *)abs);
            xmlFree(abs);
        }
        xmlFree(base);
    }
    if (!out)
        out = ww_strdup(link);
    bool rep;
    char *clean = ww_utf8_repair(out, strlen(out), &rep);
    ww_free(out);
    return clean;
}

static void set_once(char **dst, char *val)
{
    if (!*dst)
        *dst = val;
    else
        ww_free(val);
}

/* Replaces *dst with val when val is longer (richer description). */
static void set_longer(char **dst, char *val)
{
    if (!val)
        return;
    if (!*dst || strlen(val) > strlen(*dst)) {
        ww_free(*dst);
        *dst = val;
    } else
        ww_free(val);
}

static void item_date(ww_feed_item_t *it, xmlNode *c, bool prefer)
{
    char *d = elem_raw(c);
    int64_t ms;
    if (d && ww_datetime_parse(d, &ms) == 0) {
        if (prefer || !it->published_ms)
            it->published_ms = ms;
    } else if (d)
        it->bad_date = true;
    ww_free(d);
}

/* The href of an Atom <link> if it is the alternate (or unqualified) link. */
static char *atom_link(xmlNode *c)
{
    xmlChar *rel = xmlGetProp(c, (const xmlChar *)"rel");
    xmlChar *href = xmlGetProp(c, (const xmlChar *)"href");
    char *out = NULL;
    if (href && (!rel || strcmp((const char *)rel, "alternate") == 0)) {
        char *h = ww_strdup((const char *)href);
        char *s = h;
        while (isspace((unsigned char)*s))
            s++;
        size_t l = strlen(s);
        while (l && isspace((unsigned char)s[l - 1]))
            s[--l] = '\0';
        if (*s)
            out = resolve(c, s);
        ww_free(h);
    }
    xmlFree(rel);
    xmlFree(href);
    return out;
}

static void parse_item(ww_feed_t *f, xmlNode *n, bool atom)
{
    WW_GROW(f->items, f->cap_items, f->n_items + 1);
    ww_feed_item_t *it = &f->items[f->n_items++];
    memset(it, 0, sizeof *it);
    char *guid = NULL, *guid_link = NULL, *alt_link = NULL;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *ln = local_name(c);
        const char *ns = ns_of(c);
        if (!strcmp(ln, "title") && !strstr(ns, "media"))
            set_once(&it->title, elem_text(c, !atom));
        else if (!strcmp(ln, "link")) {
            if (atom || xmlHasProp(c, (const xmlChar *)"href"))
                set_once(&alt_link, atom_link(c));
            else {
                char *raw = elem_raw(c);
                if (raw)
                    set_once(&it->link, resolve(c, raw));
                ww_free(raw);
            }
        } else if (!strcmp(ln, "guid") || (!strcmp(ln, "id") && atom)) {
            char *g = elem_raw(c);
            xmlChar *perma = xmlGetProp(c, (const xmlChar *)"isPermaLink");
            if (g && !atom && (!perma || strcmp((const char *)perma, "false") != 0) &&
                (strncmp(g, "http://", 7) == 0 || strncmp(g, "https://", 8) == 0))
                set_once(&guid_link, resolve(c, g));
            xmlFree(perma);
            set_once(&guid, g);
        } else if (!strcmp(ln, "description") || !strcmp(ln, "summary") || !strcmp(ln, "abstract")) {
            if (!strstr(ns, "media"))
                set_longer(&it->summary, elem_text(c, !atom || !strcmp(ln, "description")));
        } else if (!strcmp(ln, "encoded") || (!strcmp(ln, "content") && !strstr(ns, "media"))) {
            if (!xmlHasProp(c, (const xmlChar *)"src"))
                set_longer(&it->content, elem_text(c, !atom || !strcmp(ln, "encoded")));
        } else if (!strcmp(ln, "pubDate") || !strcmp(ln, "published") || !strcmp(ln, "issued"))
            item_date(it, c, true);
        else if (!strcmp(ln, "date") || !strcmp(ln, "updated") || !strcmp(ln, "modified") ||
                 !strcmp(ln, "created"))
            item_date(it, c, false);
        else if (!strcmp(ln, "creator") || (!strcmp(ln, "author") && !strstr(ns, "itunes"))) {
            if (atom || has_element_child(c)) {
                for (xmlNode *a = c->children; a; a = a->next)
                    if (is_elem(a, "name"))
                        set_once(&it->author, elem_text(a, false));
            } else
                set_once(&it->author, elem_text(c, false));
        }
    }
    if (!it->link)
        it->link = alt_link ? alt_link : guid_link;
    else {
        ww_free(alt_link);
        alt_link = NULL;
    }
    if (it->link != guid_link)
        ww_free(guid_link);
    if (!guid) {
        xmlChar *about = xmlGetNsProp(n, (const xmlChar *)"about",
                                      (const xmlChar *)"http://www.w3.org/1999/02/22-rdf-syntax-ns#");
        if (!about)
            about = xmlGetProp(n, (const xmlChar *)"about");
        if (about && *about)
            guid = ww_strdup((const char *)about);
        xmlFree(about);
    }
    xmlChar *lang = xmlNodeGetLang(n);
    if (lang && *lang)
        it->lang = ww_strdup((const char *)lang);
    else if (f->lang)
        it->lang = ww_strdup(f->lang);
    xmlFree(lang);
    if (guid) {
        bool rep;
        it->id = ww_utf8_repair(guid, strlen(guid), &rep);
        ww_free(guid);
    } else if (it->link)
        it->id = ww_strdup(it->link);
    else {
        char key[2048];
        int k = snprintf(key, sizeof key, "%s\n%s\n%lld", it->title ? it->title : "",
                         it->summary ? it->summary : (it->content ? it->content : ""),
                         (long long)it->published_ms);
        size_t kl = k < 0 ? 0 : ((size_t)k < sizeof key ? (size_t)k : sizeof key - 1);
        it->id = ww_asprintf("h:%016llx", (unsigned long long)ww_hash_bytes(key, kl));
    }
}

/* Collects <item>/<entry> elements under n (not inside another item). */
static void collect_items(ww_feed_t *f, xmlNode *n, int depth, bool atom)
{
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_elem(c, atom ? "entry" : "item"))
            parse_item(f, c, atom);
        else if (depth < 3)
            collect_items(f, c, depth + 1, atom);
    }
}

/* Channel-level title, link and language (for RSS under <channel>, for Atom
 * and RDF's own <channel> as well). */
static void channel_meta(ww_feed_t *f, xmlNode *ch, bool atom)
{
    for (xmlNode *c = ch->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *ln = local_name(c);
        if (!strcmp(ln, "title") && !strstr(ns_of(c), "media"))
            set_once(&f->title, elem_text(c, !atom));
        else if (!strcmp(ln, "link")) {
            if (atom || xmlHasProp(c, (const xmlChar *)"href"))
                set_once(&f->link, atom_link(c));
            else {
                char *raw = elem_raw(c);
                if (raw)
                    set_once(&f->link, resolve(c, raw));
                ww_free(raw);
            }
        } else if (!strcmp(ln, "language")) {
            char *l = elem_raw(c);
            if (l) {
                bool rep;
                set_once(&f->lang, ww_utf8_repair(l, strlen(l), &rep));
            }
            ww_free(l);
        }
    }
    if (!f->lang) {
        xmlChar *lang = xmlNodeGetLang(ch);
        if (lang && *lang)
            f->lang = ww_strdup((const char *)lang);
        xmlFree(lang);
    }
}

/* ---- the entry point ------------------------------------------------------------------ */

static pthread_once_t ww_xml_once = PTHREAD_ONCE_INIT;
static void ww_xml_init(void)
{
    xmlInitParser();
}

/* Discards libxml2's error messages (we count errors through the context). */
static void ww_xml_silent(void *ctx, xmlErrorPtr err)
{
    (void)ctx;
    (void)err;
}

const char *ww_feed_format_name(ww_feed_format_t f)
{
    switch (f) {
    case WW_FEED_RSS: return "rss";
    case WW_FEED_RDF: return "rdf";
    case WW_FEED_ATOM: return "atom";
    default: return "unknown";
    }
}

int ww_feed_parse(const char *buf, size_t len, const char *url, const char *charset, ww_feed_t **out,
                  char *err, size_t errlen)
{
    pthread_once(&ww_xml_once, ww_xml_init);
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    size_t blank = 0;
    while (blank < len && (isspace((unsigned char)buf[blank]) || buf[blank] == '\0'))
        blank++;
    if (blank == len) {
        snprintf(err, errlen, "empty document");
        return -1;
    }
    if (len > (size_t)INT32_MAX / 2) {
        snprintf(err, errlen, "document too large (%zu bytes)", len);
        return -1;
    }
    unsigned repairs = 0;
    char *enc = NULL;
    size_t plen = 0;
    char *doc_text = prepare(buf, len, charset, &plen, &enc, &repairs);
    ww_feed_t *f = NULL;
    int rc = -1;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    xmlDocPtr doc = NULL;
    if (!ctxt) {
        snprintf(err, errlen, "out of memory in libxml2");
        goto cleanup;
    }
    xmlSetStructuredErrorFunc(NULL, ww_xml_silent);
    doc = xmlCtxtReadMemory(ctxt, doc_text, (int)plen, url, "UTF-8",
                            XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC | XML_PARSE_NOBLANKS);
    bool wellformed = ctxt->wellFormed != 0 && ctxt->nsWellFormed != 0;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root) {
        snprintf(err, errlen, "no root element (not XML, or nothing recoverable)");
        goto cleanup;
    }
    const char *rn = local_name(root);
    ww_feed_format_t fmt = WW_FEED_UNKNOWN;
    if (!strcmp(rn, "rss") || !strcmp(rn, "channel"))
        fmt = WW_FEED_RSS;
    else if (!strcmp(rn, "RDF"))
        fmt = WW_FEED_RDF;
    else if (!strcmp(rn, "feed"))
        fmt = WW_FEED_ATOM;
    if (fmt == WW_FEED_UNKNOWN) {
        snprintf(err, errlen, "not a feed: root element <%.40s>", (const char *)root->name);
        goto cleanup;
    }
    f = ww_calloc(1, sizeof *f);
    f->format = fmt;
    f->encoding = enc;
    enc = NULL;
    f->recovered = !wellformed || repairs > 0;
    f->n_repairs = repairs + (wellformed ? 0 : 1);
    bool atom = fmt == WW_FEED_ATOM;
    if (fmt == WW_FEED_RSS) {
        xmlNode *ch = root;
        for (xmlNode *c = root->children; c && !strcmp(rn, "rss"); c = c->next)
            if (is_elem(c, "channel")) {
                ch = c;
                break;
            }
        channel_meta(f, ch, false);
    } else if (fmt == WW_FEED_RDF) {
        for (xmlNode *c = root->children; c; c = c->next)
            if (is_elem(c, "channel")) {
                channel_meta(f, c, false);
                break;
            }
    } else
        channel_meta(f, root, true);
    collect_items(f, root, 0, atom);
    *out = f;
    f = NULL;
    rc = 0;
cleanup:
    if (doc)
        xmlFreeDoc(doc);
    if (ctxt)
        xmlFreeParserCtxt(ctxt);
    ww_feed_destroy(&f);
    ww_free(enc);
    ww_free(doc_text);
    return rc;
}

static void item_free(ww_feed_item_t *it)
{
    ww_free(it->id);
    ww_free(it->title);
    ww_free(it->link);
    ww_free(it->summary);
    ww_free(it->content);
    ww_free(it->author);
    ww_free(it->lang);
}

void ww_feed_destroy(ww_feed_t **fp)
{
    if (!fp || !*fp)
        return;
    ww_feed_t *f = *fp;
    for (size_t i = 0; i < f->n_items; i++)
        item_free(&f->items[i]);
    ww_free(f->items);
    ww_free(f->title);
    ww_free(f->link);
    ww_free(f->lang);
    ww_free(f->encoding);
    ww_free(f);
    *fp = NULL;
}

ww_event_t *ww_feed_item_to_event(const ww_feed_t *feed, const ww_feed_item_t *it, const char *source)
{
    const char *body = it->content;
    if (!body || (it->summary && strlen(it->summary) > strlen(body)))
        body = it->summary;
    if (!it->title && !body)
        return NULL;
    ww_event_t *ev = ww_event_new();
    ev->source = ww_strdup(source);
    ev->url = ww_strdup(it->link);
    ev->title = ww_strdup(it->title ? it->title : "");
    ev->body = ww_strdup(body ? body : "");
    ev->lang = ww_strdup(it->lang ? it->lang : (feed ? feed->lang : NULL));
    ev->published_at = it->published_ms;
    ww_event_sanitize(ev);
    return ev;
}
