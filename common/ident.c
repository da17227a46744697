/* ident.c - sanitising (valid UTF-8, no NULs) and identity of events:
 * canonical URLs (libcurl's URL API) and the stable id (XXH3-128). */
#include "ww/alloc.h"
#include "ww/event.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

/* ---- UTF-8 repair ---------------------------------------------------------------- */

/* One pass over s[0..len): writes the repaired bytes to out when out is not
 * NULL, and returns the repaired length. *repaired is set when the output
 * differs from the input. Invalid input follows the Unicode "maximal subpart"
 * practice: each maximal prefix of a well-formed sequence that breaks off
 * (and each stray byte) becomes one U+FFFD. Overlong forms (C0, C1, E0 80..9F,
 * F0 80..8F), UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF
 * (F4 90.., F5..FF) are invalid. NUL bytes are dropped. */
static size_t ww_utf8_pass(const unsigned char *s, size_t len, char *out, bool *repaired)
{
    static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
    size_t i = 0, o = 0;
    bool rep = false;
    while (i < len) {
        /* fast path: 8 ASCII bytes with no NUL at a time */
        while (i + 8 <= len) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if ((v & 0x8080808080808080ULL) ||
                ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL))
                break;
            if (out)
                memcpy(out + o, s + i, 8);
            o += 8;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char b = s[i];
        if (b == 0) {
            rep = true;
            i++;
            continue;
        }
        if (b < 0x80) {
            if (out)
                out[o] = (char)b;
            o++;
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b == 0xE0) {
            need = 2;
            lo = 0xA0;
        } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
            need = 2;
        } else if (b == 0xED) {
            need = 2;
            hi = 0x9F;
        } else if (b == 0xF0) {
            need = 3;
            lo = 0x90;
        } else if (b >= 0xF1 && b <= 0xF3) {
            need = 3;
        } else if (b == 0xF4) {
            need = 3;
            hi = 0x8F;
        } else {
            need = 0; /* continuation byte without a lead, C0, C1, F5..FF */
        }
        size_t j = i + 1, k = 0;
        while (need && k < need && j < len) {
            unsigned char c = s[j];
            unsigned char l = k == 0 ? lo : 0x80, h = k == 0 ? hi : 0xBF;
            if (c < l || c > h)
                break;
            j++;
            k++;
        }
        if (need && k == need) {
            if (out)
                memcpy(out + o, s + i, j - i);
            o += j - i;
        } else {
            if (out)
                memcpy(out + o, fffd, 3);
            o += 3;
            rep = true;
        }
        i = j;
    }
    if (repaired)
        *repaired = rep;
    return o;
}

char *ww_utf8_repair(const char *s, size_t len, bool *repaired)
{
    bool rep = false;
    if (!s)
        len = 0;
    size_t n = len ? ww_utf8_pass((const unsigned char *)s, len, NULL, &rep) : 0;
    char *out;
    if (!rep) {
        out = ww_strndup(s ? s : "", len);
    } else {
        out = ww_malloc(n + 1);
        ww_utf8_pass((const unsigned char *)s, len, out, NULL);
        out[n] = '\0';
    }
    if (repaired)
        *repaired = rep;
    return out;
}

/* Repairs one owned, NUL-terminated string in place (replacing it when it
 * changes). Returns true when it was repaired. NULL is left alone. */
static bool ww_sanitize_str(char **sp)
{
    if (!*sp)
        return false;
    bool rep = false;
    size_t len = strlen(*sp);
    ww_utf8_pass((const unsigned char *)*sp, len, NULL, &rep);
    if (!rep)
        return false;
    char *fixed = ww_utf8_repair(*sp, len, NULL);
    ww_free(*sp);
    *sp = fixed;
    return true;
}

bool ww_event_sanitize(ww_event_t *ev)
{
    if (!ev)
        return false;
    bool rep = false;
    rep |= ww_sanitize_str(&ev->id);
    rep |= ww_sanitize_str(&ev->source);
    rep |= ww_sanitize_str(&ev->url);
    rep |= ww_sanitize_str(&ev->title);
    rep |= ww_sanitize_str(&ev->body);
    rep |= ww_sanitize_str(&ev->lang);
    rep |= ww_sanitize_str(&ev->duplicate_of);
    rep |= ww_sanitize_str(&ev->story);
    ww_event_own_enrichment(ev); /* strings in a decode block cannot be freed one by one */
    for (size_t i = 0; i < ev->n_entities; i++) {
        rep |= ww_sanitize_str(&ev->entities[i].text);
        rep |= ww_sanitize_str(&ev->entities[i].canonical);
    }
    for (size_t i = 0; i < ev->n_keywords; i++)
        rep |= ww_sanitize_str(&ev->keywords[i].term);
    for (size_t i = 0; i < ev->n_quotes; i++) {
        rep |= ww_sanitize_str(&ev->quotes[i].speaker);
        rep |= ww_sanitize_str(&ev->quotes[i].text);
    }
    return rep;
}

/* ---- canonical URLs ---------------------------------------------------------------- */

/* Query parameters that only track the reader; dropped by ww_url_canonical.
 * Compared case-insensitively; any name starting with "utm_" is dropped too. */
static const char *const ww_tracking_params[] = {
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "_ga", "ref_src",
};

/* True when the query parameter name[0..n) is a tracking parameter. */
static bool ww_is_tracking_param(const char *name, size_t n)
{
    if (n >= 4 && strncasecmp(name, "utm_", 4) == 0)
        return true;
    for (size_t i = 0; i < sizeof(ww_tracking_params) / sizeof(ww_tracking_params[0]); i++) {
        const char *t = ww_tracking_params[i];
        if (strlen(t) == n && strncasecmp(name, t, n) == 0)
            return true;
    }
    return false;
}

/* Returns the query q without tracking and empty parameters, the others in
 * their original order; NULL when nothing remains. Caller owns. */
static char *ww_query_filter(const char *q)
{
    size_t qlen = strlen(q), o = 0;
    char *out = ww_malloc(qlen + 1);
    const char *p = q;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t nlen = eq ? (size_t)(eq - p) : plen;
        if (plen > 0 && !ww_is_tracking_param(p, nlen)) {
            if (o)
                out[o++] = '&';
            memcpy(out + o, p, plen);
            o += plen;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    if (o == 0) {
        ww_free(out);
        return NULL;
    }
    out[o] = '\0';
    return out;
}

/* curl_url_get into an owned ww_ string, or NULL when the part is absent. */
static char *ww_curl_part(CURLU *h, CURLUPart part, unsigned flags)
{
    char *v = NULL;
    if (curl_url_get(h, part, &v, flags) != CURLUE_OK || !v)
        return NULL;
    char *d = ww_strdup(v);
    curl_free(v);
    return d;
}

char *ww_url_canonical(const char *url)
{
    if (!url)
        return NULL;
    /* trim surrounding ASCII blanks: a pasted URL often carries a newline */
    const char *b = url, *e = url + strlen(url);
    while (b < e && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    if (b == e)
        return NULL;

    char *in = ww_strndup(b, (size_t)(e - b));
    char *result = NULL, *host = NULL, *port = NULL, *query = NULL, *filtered = NULL;
    char *path = NULL;
    CURLU *h = curl_url();
    if (!h)
        goto cleanup;
    /* any scheme curl can parse (scheme://authority...) is accepted */
    if (curl_url_set(h, CURLUPART_URL, in, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        goto cleanup;

    /* curl lower-cases the scheme itself; the host we lower-case (ASCII) */
    host = ww_curl_part(h, CURLUPART_HOST, 0);
    if (!host || !*host)
        goto cleanup;
    for (char *c = host; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    if (curl_url_set(h, CURLUPART_HOST, host, 0) != CURLUE_OK)
        goto cleanup;

    /* a port equal to the scheme's default is not returned with
     * CURLU_NO_DEFAULT_PORT: then drop it */
    port = ww_curl_part(h, CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
    if (!port)
        curl_url_set(h, CURLUPART_PORT, NULL, 0);

    curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0);

    query = ww_curl_part(h, CURLUPART_QUERY, 0);
    if (query) {
        filtered = ww_query_filter(query);
        if (curl_url_set(h, CURLUPART_QUERY, filtered, 0) != CURLUE_OK)
            goto cleanup;
    }

    path = ww_curl_part(h, CURLUPART_PATH, 0);
    if (!path || !*path) {
        if (curl_url_set(h, CURLUPART_PATH, "/", 0) != CURLUE_OK)
            goto cleanup;
    }

    result = ww_curl_part(h, CURLUPART_URL, 0);

cleanup:
    ww_free(path);
    ww_free(filtered);
    ww_free(query);
    ww_free(port);
    ww_free(host);
    if (h)
        curl_url_cleanup(h);
    ww_free(in);
    return result;
}

/* ---- identity ------------------------------------------------------------------------ */

void ww_event_compute_id(ww_event_t *ev)
{
    if (!ev)
        return;
    char *canon = ev->url ? ww_url_canonical(ev->url) : NULL;
    char *buf;
    size_t n;
    if (canon) {
        size_t cl = strlen(canon);
        n = 4 + cl;
        buf = ww_malloc(n);
        memcpy(buf, "url", 4); /* includes the NUL separator */
        memcpy(buf + 4, canon, cl);
    } else {
        const char *t = ev->title ? ev->title : "";
        const char *bd = ev->body ? ev->body : "";
        size_t tl = strlen(t), bl = strlen(bd);
        n = 5 + tl + 1 + bl;
        buf = ww_malloc(n);
        memcpy(buf, "text", 5);
        memcpy(buf + 5, t, tl);
        buf[5 + tl] = '\0';
        memcpy(buf + 5 + tl + 1, bd, bl);
    }
    XXH128_hash_t hv = XXH3_128bits(buf, n);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, hv);
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", c.digest[i]);
    ww_free(ev->id);
    ev->id = ww_strdup(hex);
    ww_free(buf);
    ww_free(canon);
}
