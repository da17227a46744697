/* feed.h - RSS 0.91-2.0, RSS 1.0 (RDF) and Atom 1.0 parsing (libxml2).
 *
 * The parser is lenient the way news readers must be: the character set is
 * taken from a byte-order mark, the XML declaration (when iconv knows it), the
 * HTTP charset, or else detected (UTF-8, Shift_JIS, KOI8-R/windows-1251,
 * windows-1252); everything is converted to UTF-8 first (invalid bytes become
 * U+FFFD). Defects that leave the content recoverable are repaired and the
 * feed is flagged `recovered`: bare '&', HTML entities in XML, control
 * characters, a misplaced XML declaration, leading blanks, unclosed elements,
 * truncated documents (libxml2's recover mode). Titles and descriptions are
 * turned into clean text (html.h); double-encoded UTF-8 ("Ã©") is undone;
 * links are resolved against xml:base and the feed URL; dates are parsed by
 * datetime.h. */
#ifndef WW_FEED_H
#define WW_FEED_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww/event.h"

typedef enum {
    WW_FEED_UNKNOWN = 0,
    WW_FEED_RSS,  /* RSS 0.9x / 2.0 (<rss><channel><item>) */
    WW_FEED_RDF,  /* RSS 1.0 / 0.90 (<rdf:RDF> ... <item>) */
    WW_FEED_ATOM, /* Atom 1.0 (and 0.3) (<feed><entry>) */
} ww_feed_format_t;

/* One item/entry. Every string is valid UTF-8, owned by the feed, NULL when absent. */
typedef struct {
    char *id;             /* guid / atom:id / rdf:about, else link, else "h:" + hash of the text; never NULL */
    char *title;          /* clean text */
    char *link;           /* absolute URL (resolved), or NULL */
    char *summary;        /* clean text of description / summary */
    char *content;        /* clean text of content:encoded / atom:content */
    char *author;         /* clean text */
    char *lang;           /* xml:lang or the channel's language */
    int64_t published_ms; /* Unix ms; 0 when absent or unparseable */
    bool bad_date;        /* a date element was present but not understood */
} ww_feed_item_t;

typedef struct {
    ww_feed_format_t format;
    char *title;         /* channel/feed title (clean text) or NULL */
    char *link;          /* channel/feed link (absolute) or NULL */
    char *lang;          /* channel language or NULL */
    char *encoding;      /* the character set the bytes were read as, e.g. "KOI8-R" */
    bool recovered;      /* the document was not well-formed; what could be recovered was */
    unsigned n_repairs;  /* count of parser errors and pre-parse repairs */
    ww_feed_item_t *items;
    size_t n_items, cap_items;
} ww_feed_t;

/* Parses buf[0..len). `url` (may be NULL) is the feed's URL, the base of
 * relative links; `charset` (may be NULL) is the HTTP Content-Type charset.
 * Returns 0 with *out (caller owns: ww_feed_destroy), or -1 with a one-line
 * reason in err ("empty document", "no root element", "not a feed: root
 * element <html>") when nothing could be recovered. */
int ww_feed_parse(const char *buf, size_t len, const char *url, const char *charset, ww_feed_t **out,
                  char *err, size_t errlen);

/* NULL-safe; nulls *f. */
void ww_feed_destroy(ww_feed_t **f);

/* "rss", "rdf", "atom", "unknown". Borrowed (static). */
const char *ww_feed_format_name(ww_feed_format_t f);

/* The event for an item: url = link, title, body = the longer of content and
 * summary, lang, published_at; `source` is copied (the feed URL or file
 * path). Returns NULL when the item has neither title nor body. Caller owns. */
ww_event_t *ww_feed_item_to_event(const ww_feed_t *feed, const ww_feed_item_t *it, const char *source);

/* Converts bytes in `charset` to UTF-8 (invalid sequences become U+FFFD).
 * Returns a new NUL-terminated string (caller owns) and *outlen, or NULL when
 * iconv does not know the charset. */
char *ww_charset_to_utf8(const char *buf, size_t len, const char *charset, size_t *outlen, bool *repaired);

/* Guesses the character set of undeclared bytes: "UTF-8", "SHIFT_JIS",
 * "KOI8-R", "WINDOWS-1251" or "WINDOWS-1252". Borrowed (static). */
const char *ww_charset_detect(const char *buf, size_t len);

/* Undoes double encoding: when every character of s is below U+0100 (or a
 * windows-1252 special) and those bytes form valid multi-byte UTF-8, returns
 * the decoded string (caller owns); otherwise NULL. */
char *ww_fix_mojibake(const char *s);
#endif
