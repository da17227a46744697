/* rules_expr.c - the match expression language of SPEC §5: lexer, parser to
 * an AST, canonical printer, and the evaluator over a prepared event view.
 *
 * Grammar (upper-case keywords; lower-case and/or/not/near are plain words):
 *
 *   expr    := and { "OR" and }
 *   and     := unary { ["AND"] unary }          adjacency means AND
 *   unary   := "NOT" unary | near
 *   near    := primary [ "NEAR/"n primary ]     both sides words, prefixes or phrases
 *   primary := "(" expr ")" | SCOPE":" primary-or-term | entity | term
 *   term    := word | prefix"*" | '"'phrase'"'
 *   entity  := "entity:"TYPE | "entity:"TYPE":"name | "entity:"'"'Name'"'
 *
 * Precedence: NOT > NEAR > AND/adjacency > OR. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "rules_internal.h"
#include "ww/alloc.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ======================================================================== */
/* names                                                                     */
/* ======================================================================== */

static const char *const rx_type_names[WW_ENT__COUNT] = {"PER",  "ORG",   "LOC",    "MISC",
                                                         "DATE", "MONEY", "PERCENT"};

const char *ww_rx_ent_type_name(ww_ent_type_t t)
{
    if ((int)t < 0 || t >= WW_ENT__COUNT)
        return NULL;
    return rx_type_names[t];
}

/* Entity type from s[0..n), case-insensitive. Returns 0 or -1. */
static int rx_type_parse(const char *s, size_t n, ww_ent_type_t *out)
{
    for (int t = 0; t < WW_ENT__COUNT; t++) {
        if (strlen(rx_type_names[t]) == n && strncasecmp(rx_type_names[t], s, n) == 0) {
            *out = (ww_ent_type_t)t;
            return 0;
        }
    }
    return -1;
}

/* ======================================================================== */
/* terms                                                                     */
/* ======================================================================== */

static void rx_term_free(ww_rx_term_t *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        ww_free(t->w[i]);
    ww_free(t->w);
    ww_free(t->len);
    ww_free(t->hash);
    memset(t, 0, sizeof *t);
}

/* Fills t with the words of s[0..n) (tokenized like event text). Returns the
 * number of words (0: t left empty). */
static uint32_t rx_term_build(ww_rx_term_t *t, const char *s, size_t n, bool prefix)
{
    ww_tokens_t toks;
    ww_tokens_init(&toks);
    ww_tokenize(s, n, &toks);
    memset(t, 0, sizeof *t);
    if (toks.n > 0) {
        t->n = (uint32_t)toks.n;
        t->w = ww_calloc(toks.n, sizeof *t->w);
        t->len = ww_calloc(toks.n, sizeof *t->len);
        t->hash = ww_calloc(toks.n, sizeof *t->hash);
        for (size_t i = 0; i < toks.n; i++) {
            t->w[i] = ww_strndup(ww_token_fold(&toks, i), toks.toks[i].fold_len);
            t->len[i] = toks.toks[i].fold_len;
            t->hash[i] = ww_rx_word_hash(t->w[i], t->len[i]);
        }
        t->prefix = prefix;
    }
    ww_tokens_deinit(&toks);
    return t->n;
}

void ww_rx_free(ww_rx_node_t *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_kids; i++)
        ww_rx_free(n->kids[i]);
    ww_free(n->kids);
    rx_term_free(&n->a);
    rx_term_free(&n->b);
    rx_term_free(&n->name_words);
    ww_free(n->name_fold);
    ww_free(n);
}

static ww_rx_node_t *rx_node_new(ww_rx_kind_t kind, uint32_t pos)
{
    ww_rx_node_t *n = ww_calloc(1, sizeof *n);
    n->kind = kind;
    n->pos = pos;
    return n;
}

/* Adds kid to an AND/OR node, flattening a kid of the same kind. */
static void rx_add_kid(ww_rx_node_t *n, ww_rx_node_t *kid)
{
    if (kid->kind == n->kind && (kid->kind == WW_RX_AND || kid->kind == WW_RX_OR)) {
        n->kids = ww_realloc(n->kids, (n->n_kids + kid->n_kids) * sizeof *n->kids);
        for (size_t i = 0; i < kid->n_kids; i++)
            n->kids[n->n_kids++] = kid->kids[i];
        kid->n_kids = 0;
        ww_rx_free(kid);
        return;
    }
    n->kids = ww_realloc(n->kids, (n->n_kids + 1) * sizeof *n->kids);
    n->kids[n->n_kids++] = kid;
}

/* ======================================================================== */
/* lexer                                                                     */
/* ======================================================================== */

typedef enum {
    TK_EOF = 0,
    TK_LP,   /* ( */
    TK_RP,   /* ) */
    TK_STR,  /* "..." : s/len = the content */
    TK_BARE, /* a run of anything but blanks, parentheses and quotes */
    TK_AND,
    TK_OR,
    TK_NOT,
    TK_NEAR /* NEAR/n, near_n set */
} rx_tk_kind_t;

typedef struct {
    rx_tk_kind_t k;
    uint32_t pos;    /* offset of the token's first byte */
    uint32_t end;    /* offset just past the token */
    const char *s;   /* TK_STR: content, TK_BARE: the run */
    uint32_t len;    /* its length */
    uint32_t near_n; /* TK_NEAR */
} rx_tok_t;

typedef struct {
    const char *src;
    size_t len;
    size_t i;          /* lexer position */
    rx_tok_t cur;      /* current token */
    rx_tok_t prev;     /* the token consumed before cur */
    int depth;         /* open parentheses + NOTs */
    int paren;         /* open parentheses */
    ww_rx_scope_t scope; /* scope of the enclosing title:(...) group */
    bool scoped;       /* inside such a group */
    bool failed;       /* error recorded */
    size_t err_off;
    char *msg;
    size_t msglen;
} rx_parser_t;

static void rx_fail(rx_parser_t *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error only. */
static void rx_fail(rx_parser_t *p, size_t off, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    p->err_off = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, p->msglen, fmt, ap);
    va_end(ap);
}

static bool rx_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Reads the next token into p->cur (p->prev gets the old one). */
static void rx_next(rx_parser_t *p)
{
    p->prev = p->cur;
    rx_tok_t t = {0};
    while (p->i < p->len && rx_is_blank(p->src[p->i]))
        p->i++;
    t.pos = (uint32_t)p->i;
    if (p->i >= p->len) {
        t.k = TK_EOF;
        t.end = t.pos;
        p->cur = t;
        return;
    }
    char c = p->src[p->i];
    if (c == '(' || c == ')') {
        t.k = c == '(' ? TK_LP : TK_RP;
        p->i++;
    } else if (c == '"') {
        const char *q = memchr(p->src + p->i + 1, '"', p->len - p->i - 1);
        if (!q) {
            rx_fail(p, p->i, "unterminated quote");
            t.k = TK_EOF;
            p->i = p->len;
        } else {
            t.k = TK_STR;
            t.s = p->src + p->i + 1;
            t.len = (uint32_t)(q - t.s);
            p->i = (size_t)(q - p->src) + 1;
        }
    } else {
        size_t j = p->i;
        while (j < p->len && !rx_is_blank(p->src[j]) && p->src[j] != '(' && p->src[j] != ')' &&
               p->src[j] != '"')
            j++;
        t.k = TK_BARE;
        t.s = p->src + p->i;
        t.len = (uint32_t)(j - p->i);
        p->i = j;
        if (t.len == 3 && memcmp(t.s, "AND", 3) == 0) {
            t.k = TK_AND;
        } else if (t.len == 2 && memcmp(t.s, "OR", 2) == 0) {
            t.k = TK_OR;
        } else if (t.len == 3 && memcmp(t.s, "NOT", 3) == 0) {
            t.k = TK_NOT;
        } else if (t.len >= 4 && memcmp(t.s, "NEAR", 4) == 0 && (t.len == 4 || t.s[4] == '/')) {
            t.k = TK_NEAR;
            if (t.len == 4) {
                rx_fail(p, t.pos, "NEAR needs a distance: write NEAR/n, e.g. NEAR/5");
            } else {
                uint32_t n = 0;
                bool ok = t.len > 5 && t.len <= 9;
                for (uint32_t k = 5; ok && k < t.len; k++) {
                    if (t.s[k] < '0' || t.s[k] > '9')
                        ok = false;
                    else
                        n = n * 10 + (uint32_t)(t.s[k] - '0');
                }
                if (!ok || n > WW_RX_MAX_NEAR)
                    rx_fail(p, t.pos + 5, "bad NEAR distance '%.*s': expected a number 0..%d",
                            (int)(t.len - 5), t.s + 5, WW_RX_MAX_NEAR);
                t.near_n = n;
            }
        }
    }
    t.end = (uint32_t)p->i;
    p->cur = t;
}

static const char *rx_tok_desc(const rx_tok_t *t)
{
    switch (t->k) {
    case TK_AND: return "AND";
    case TK_OR: return "OR";
    case TK_NOT: return "NOT";
    case TK_NEAR: return "NEAR";
    case TK_LP: return "(";
    case TK_RP: return ")";
    default: return "term";
    }
}

/* ======================================================================== */
/* parser                                                                    */
/* ======================================================================== */

static ww_rx_node_t *rx_parse_or(rx_parser_t *p);

/* A term node from the bare text s[0..n) at offset pos: word, prefix* or an
 * unquoted run that splits into several words (a phrase). */
static ww_rx_node_t *rx_bare_term(rx_parser_t *p, const char *s, size_t n, uint32_t pos,
                                  ww_rx_scope_t scope)
{
    const char *star = memchr(s, '*', n);
    bool prefix = false;
    if (star) {
        size_t at = (size_t)(star - s);
        if (at != n - 1) {
            rx_fail(p, pos + at, "'*' is allowed only at the end of a word");
            return NULL;
        }
        if (n == 1) {
            rx_fail(p, pos, "lone '*': a prefix needs at least one letter or digit before '*'");
            return NULL;
        }
        prefix = true;
        n--;
    }
    ww_rx_node_t *node = rx_node_new(WW_RX_TERM, pos);
    node->scope = scope;
    if (rx_term_build(&node->a, s, n, prefix) == 0) {
        rx_fail(p, pos, "'%.*s' has no letters or digits", (int)(prefix ? n + 1 : n), s);
        ww_rx_free(node);
        return NULL;
    }
    if (prefix) {
        /* the '*' must follow a word character: "foo-*" is refused */
        ww_tokens_t toks;
        ww_tokens_init(&toks);
        ww_tokenize(s, n, &toks);
        bool ok = toks.n > 0 && toks.toks[toks.n - 1].end == n;
        ww_tokens_deinit(&toks);
        if (!ok) {
            rx_fail(p, pos + n, "'*' must follow a letter or digit");
            ww_rx_free(node);
            return NULL;
        }
    }
    return node;
}

/* A phrase from the current TK_STR token. */
static ww_rx_node_t *rx_phrase(rx_parser_t *p, ww_rx_scope_t scope)
{
    rx_tok_t t = p->cur;
    ww_rx_node_t *node = rx_node_new(WW_RX_TERM, t.pos);
    node->scope = scope;
    if (rx_term_build(&node->a, t.s, t.len, false) == 0) {
        rx_fail(p, t.pos, "empty phrase: a quoted phrase needs at least one letter or digit");
        ww_rx_free(node);
        return NULL;
    }
    rx_next(p);
    return node;
}

/* Sets the entity name of node from s[0..n) at offset pos. Returns 0 or -1. */
static int rx_entity_name(rx_parser_t *p, ww_rx_node_t *node, const char *s, size_t n,
                          uint32_t pos)
{
    if (n == 0) {
        rx_fail(p, pos, "empty entity name");
        return -1;
    }
    if (rx_term_build(&node->name_words, s, n, false) == 0) {
        rx_fail(p, pos, "entity name '%.*s' has no letters or digits", (int)n, s);
        return -1;
    }
    node->name_fold = ww_casefold(s, n, &node->name_fold_len);
    node->name_hash = ww_rx_word_hash(node->name_fold, node->name_fold_len);
    return 0;
}

/* entity:... from the current bare token whose text after "entity:" is
 * rest[0..rn) at offset rpos. */
static ww_rx_node_t *rx_entity(rx_parser_t *p, const char *rest, size_t rn, uint32_t rpos)
{
    rx_tok_t t = p->cur;
    if (p->scoped) {
        rx_fail(p, t.pos, "entity: cannot be used inside a field scope");
        return NULL;
    }
    ww_rx_node_t *node = rx_node_new(WW_RX_ENTITY, t.pos);
    rx_next(p);
    if (rn == 0) {
        /* entity:"Name" */
        if (p->cur.k != TK_STR || p->cur.pos != t.end) {
            rx_fail(p, t.pos,
                    "entity: needs a type (entity:PER) or a quoted name (entity:\"Name\")");
            goto fail;
        }
        if (rx_entity_name(p, node, p->cur.s, p->cur.len, p->cur.pos) < 0)
            goto fail;
        rx_next(p);
        return node;
    }
    const char *colon = memchr(rest, ':', rn);
    size_t tn = colon ? (size_t)(colon - rest) : rn;
    if (rx_type_parse(rest, tn, &node->type) < 0) {
        rx_fail(p, rpos, "unknown entity type '%.*s' (expected PER ORG LOC MISC DATE MONEY PERCENT%s)",
                (int)tn, rest, colon ? "" : "; quote a name: entity:\"Name\"");
        goto fail;
    }
    node->has_type = true;
    if (!colon)
        return node;
    const char *name = colon + 1;
    size_t nn = rn - tn - 1;
    uint32_t npos = rpos + (uint32_t)tn + 1;
    if (nn == 0) {
        if (p->cur.k != TK_STR || p->cur.pos != t.end) {
            rx_fail(p, npos, "expected a name after 'entity:%.*s:'", (int)tn, rest);
            goto fail;
        }
        if (rx_entity_name(p, node, p->cur.s, p->cur.len, p->cur.pos) < 0)
            goto fail;
        rx_next(p);
        return node;
    }
    if (memchr(name, '*', nn)) {
        rx_fail(p, npos + (uint32_t)((const char *)memchr(name, '*', nn) - name),
                "'*' is not allowed in an entity name");
        goto fail;
    }
    if (rx_entity_name(p, node, name, nn, npos) < 0)
        goto fail;
    return node;
fail:
    ww_rx_free(node);
    return NULL;
}

/* The scope named s[0..n), or -1. */
static int rx_scope_parse(const char *s, size_t n)
{
    static const struct {
        const char *name;
        ww_rx_scope_t sc;
    } tab[] = {{"title", WW_RX_SC_TITLE},
               {"body", WW_RX_SC_BODY},
               {"source", WW_RX_SC_SOURCE},
               {"lang", WW_RX_SC_LANG}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].name) == n && memcmp(tab[i].name, s, n) == 0)
            return (int)tab[i].sc;
    return -1;
}

/* Error for a token that cannot start a term. */
static void rx_fail_expected(rx_parser_t *p)
{
    rx_tok_t t = p->cur;
    if (t.k == TK_EOF) {
        switch (p->prev.k) {
        case TK_AND:
        case TK_OR:
        case TK_NOT:
        case TK_NEAR:
            rx_fail(p, p->prev.pos, "dangling %s: nothing follows it", rx_tok_desc(&p->prev));
            break;
        case TK_LP:
            rx_fail(p, p->prev.pos, "unbalanced '('");
            break;
        case TK_EOF:
            rx_fail(p, 0, "empty match expression");
            break;
        default:
            rx_fail(p, t.pos, "expected a term");
            break;
        }
    } else if (t.k == TK_RP) {
        if (p->paren == 0)
            rx_fail(p, t.pos, "unbalanced ')'");
        else
            rx_fail(p, t.pos, "expected a term before ')'");
    } else {
        rx_fail(p, t.pos, "unexpected %s: expected a term", rx_tok_desc(&t));
    }
}

static ww_rx_node_t *rx_parse_primary(rx_parser_t *p)
{
    rx_tok_t t = p->cur;
    if (p->failed)
        return NULL;
    if (t.k == TK_LP) {
        if (++p->depth > WW_RX_MAX_DEPTH) {
            rx_fail(p, t.pos, "expression nested too deeply (more than %d levels)",
                    WW_RX_MAX_DEPTH);
            return NULL;
        }
        p->paren++;
        rx_next(p);
        if (p->cur.k == TK_RP) {
            rx_fail(p, t.pos, "empty parentheses");
            return NULL;
        }
        ww_rx_node_t *n = rx_parse_or(p);
        if (!n)
            return NULL;
        if (p->cur.k != TK_RP) {
            rx_fail(p, t.pos, "unbalanced '('");
            ww_rx_free(n);
            return NULL;
        }
        p->paren--;
        p->depth--;
        rx_next(p);
        return n;
    }
    if (t.k == TK_STR)
        return rx_phrase(p, p->scoped ? p->scope : WW_RX_SC_TEXT);
    if (t.k != TK_BARE) {
        rx_fail_expected(p);
        return NULL;
    }
    /* NAME: prefix, NAME all ASCII letters */
    size_t nl = 0;
    while (nl < t.len && ((t.s[nl] >= 'a' && t.s[nl] <= 'z') || (t.s[nl] >= 'A' && t.s[nl] <= 'Z')))
        nl++;
    if (nl > 0 && nl < t.len && t.s[nl] == ':') {
        const char *rest = t.s + nl + 1;
        size_t rn = t.len - nl - 1;
        uint32_t rpos = t.pos + (uint32_t)nl + 1;
        if (nl == 6 && memcmp(t.s, "entity", 6) == 0)
            return rx_entity(p, rest, rn, rpos);
        int sc = rx_scope_parse(t.s, nl);
        if (sc < 0) {
            rx_fail(p, t.pos, "unknown field scope '%.*s:' (expected title: body: source: lang: entity:)",
                    (int)nl, t.s);
            return NULL;
        }
        if (p->scoped) {
            rx_fail(p, t.pos, "field scope '%.*s:' inside another field scope", (int)nl, t.s);
            return NULL;
        }
        if (rn > 0) {
            size_t il = 0;
            while (il < rn && ((rest[il] >= 'a' && rest[il] <= 'z') || (rest[il] >= 'A' && rest[il] <= 'Z')))
                il++;
            if (il > 0 && il < rn && rest[il] == ':') {
                if (il == 6 && memcmp(rest, "entity", 6) == 0) {
                    rx_fail(p, rpos, "entity: cannot be used inside a field scope");
                    return NULL;
                }
                if (rx_scope_parse(rest, il) >= 0) {
                    rx_fail(p, rpos, "field scope '%.*s:' inside another field scope", (int)il, rest);
                    return NULL;
                }
            }
            ww_rx_node_t *n = rx_bare_term(p, rest, rn, rpos, (ww_rx_scope_t)sc);
            if (n)
                rx_next(p);
            return n;
        }
        rx_next(p);
        if ((p->cur.k != TK_LP && p->cur.k != TK_STR) || p->cur.pos != t.end) {
            rx_fail(p, t.pos, "'%.*s:' must be followed directly by a word, a quoted phrase or '('",
                    (int)nl, t.s);
            return NULL;
        }
        p->scoped = true;
        p->scope = (ww_rx_scope_t)sc;
        ww_rx_node_t *n = rx_parse_primary(p);
        p->scoped = false;
        return n;
    }
    ww_rx_node_t *n = rx_bare_term(p, t.s, t.len, t.pos, p->scoped ? p->scope : WW_RX_SC_TEXT);
    if (n)
        rx_next(p);
    return n;
}

static ww_rx_node_t *rx_parse_near(rx_parser_t *p)
{
    ww_rx_node_t *left = rx_parse_primary(p);
    if (!left || p->cur.k != TK_NEAR)
        return left;
    rx_tok_t near = p->cur;
    ww_rx_node_t *right = NULL;
    if (left->kind != WW_RX_TERM) {
        rx_fail(p, near.pos, "NEAR needs a word, prefix or phrase on its left");
        goto fail;
    }
    rx_next(p);
    if (p->failed)
        goto fail;
    uint32_t rpos = p->cur.pos;
    right = rx_parse_primary(p);
    if (!right)
        goto fail;
    if (right->kind != WW_RX_TERM) {
        rx_fail(p, rpos, "NEAR needs a word, prefix or phrase on its right");
        goto fail;
    }
    ww_rx_scope_t sc = left->scope;
    if (right->scope != sc) {
        if (sc == WW_RX_SC_TEXT)
            sc = right->scope;
        else if (right->scope != WW_RX_SC_TEXT) {
            rx_fail(p, near.pos, "the two sides of NEAR are in different field scopes");
            goto fail;
        }
    }
    if (p->cur.k == TK_NEAR) {
        rx_fail(p, p->cur.pos, "NEAR cannot be chained: combine two NEARs with AND");
        goto fail;
    }
    ww_rx_node_t *n = rx_node_new(WW_RX_NEAR, left->pos);
    n->scope = sc;
    n->near_n = near.near_n;
    n->a = left->a;
    n->b = right->a;
    memset(&left->a, 0, sizeof left->a);
    memset(&right->a, 0, sizeof right->a);
    ww_rx_free(left);
    ww_rx_free(right);
    return n;
fail:
    ww_rx_free(left);
    ww_rx_free(right);
    return NULL;
}

static ww_rx_node_t *rx_parse_unary(rx_parser_t *p)
{
    if (p->failed)
        return NULL;
    if (p->cur.k != TK_NOT)
        return rx_parse_near(p);
    rx_tok_t t = p->cur;
    if (++p->depth > WW_RX_MAX_DEPTH) {
        rx_fail(p, t.pos, "expression nested too deeply (more than %d levels)", WW_RX_MAX_DEPTH);
        return NULL;
    }
    rx_next(p);
    ww_rx_node_t *kid = rx_parse_unary(p);
    p->depth--;
    if (!kid)
        return NULL;
    ww_rx_node_t *n = rx_node_new(WW_RX_NOT, t.pos);
    rx_add_kid(n, kid);
    return n;
}

static bool rx_starts_unary(rx_tk_kind_t k)
{
    return k == TK_BARE || k == TK_STR || k == TK_LP || k == TK_NOT;
}

static ww_rx_node_t *rx_parse_and(rx_parser_t *p)
{
    ww_rx_node_t *left = rx_parse_unary(p);
    if (!left)
        return NULL;
    ww_rx_node_t *and = NULL;
    while (!p->failed) {
        if (p->cur.k == TK_AND) {
            rx_next(p);
        } else if (p->cur.k == TK_NEAR) {
            rx_fail(p, p->cur.pos, "NEAR needs a word, prefix or phrase on its left");
            break;
        } else if (!rx_starts_unary(p->cur.k)) {
            break;
        }
        ww_rx_node_t *right = rx_parse_unary(p);
        if (!right)
            break;
        if (!and) {
            and = rx_node_new(WW_RX_AND, left->pos);
            rx_add_kid(and, left);
        }
        rx_add_kid(and, right);
    }
    if (p->failed) {
        ww_rx_free(and ? and : left);
        return NULL;
    }
    return and ? and : left;
}

static ww_rx_node_t *rx_parse_or(rx_parser_t *p)
{
    ww_rx_node_t *left = rx_parse_and(p);
    if (!left)
        return NULL;
    ww_rx_node_t *or = NULL;
    while (!p->failed && p->cur.k == TK_OR) {
        rx_next(p);
        ww_rx_node_t *right = rx_parse_and(p);
        if (!right)
            break;
        if (!or) {
            or = rx_node_new(WW_RX_OR, left->pos);
            rx_add_kid(or, left);
        }
        rx_add_kid(or, right);
    }
    if (p->failed) {
        ww_rx_free(or ? or : left);
        return NULL;
    }
    return or ? or : left;
}

ww_rx_node_t *ww_rx_parse(const char *expr, size_t len, size_t *err_off, char *msg, size_t msglen)
{
    rx_parser_t p = {.src = expr, .len = len, .msg = msg, .msglen = msglen};
    if (msglen)
        msg[0] = '\0';
    rx_next(&p);
    ww_rx_node_t *n = NULL;
    if (!p.failed)
        n = rx_parse_or(&p);
    if (n && !p.failed && p.cur.k != TK_EOF) {
        if (p.cur.k == TK_RP)
            rx_fail(&p, p.cur.pos, "unbalanced ')'");
        else
            rx_fail(&p, p.cur.pos, "unexpected %s", rx_tok_desc(&p.cur));
    }
    if (p.failed) {
        ww_rx_free(n);
        if (err_off)
            *err_off = p.err_off;
        return NULL;
    }
    return n;
}

/* ======================================================================== */
/* canonical printer                                                         */
/* ======================================================================== */

typedef struct {
    char *s;
    size_t n, cap;
} rx_buf_t;

static void rx_put(rx_buf_t *b, const char *s, size_t n)
{
    WW_GROW(b->s, b->cap, b->n + n + 1);
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void rx_puts(rx_buf_t *b, const char *s)
{
    rx_put(b, s, strlen(s));
}

static const char *const rx_scope_names[] = {"", "title:", "body:", "source:", "lang:"};

static void rx_print_term(rx_buf_t *b, const ww_rx_term_t *t)
{
    if (t->n > 1)
        rx_puts(b, "\"");
    for (uint32_t i = 0; i < t->n; i++) {
        if (i)
            rx_puts(b, " ");
        rx_put(b, t->w[i], t->len[i]);
    }
    if (t->prefix)
        rx_puts(b, "*");
    if (t->n > 1)
        rx_puts(b, "\"");
}

static void rx_print(rx_buf_t *b, const ww_rx_node_t *n)
{
    char tmp[32];
    switch (n->kind) {
    case WW_RX_TERM:
        rx_puts(b, rx_scope_names[n->scope]);
        rx_print_term(b, &n->a);
        break;
    case WW_RX_NEAR:
        snprintf(tmp, sizeof tmp, "(NEAR/%u ", n->near_n);
        rx_puts(b, tmp);
        rx_puts(b, rx_scope_names[n->scope]);
        rx_print_term(b, &n->a);
        rx_puts(b, " ");
        rx_print_term(b, &n->b);
        rx_puts(b, ")");
        break;
    case WW_RX_ENTITY:
        rx_puts(b, "entity:");
        if (n->has_type) {
            rx_puts(b, rx_type_names[n->type]);
            if (n->name_fold)
                rx_puts(b, ":");
        }
        if (n->name_fold) {
            rx_puts(b, "\"");
            rx_put(b, n->name_fold, n->name_fold_len);
            rx_puts(b, "\"");
        }
        break;
    case WW_RX_AND:
    case WW_RX_OR:
    case WW_RX_NOT:
        rx_puts(b, n->kind == WW_RX_AND ? "(AND" : n->kind == WW_RX_OR ? "(OR" : "(NOT");
        for (size_t i = 0; i < n->n_kids; i++) {
            rx_puts(b, " ");
            rx_print(b, n->kids[i]);
        }
        rx_puts(b, ")");
        break;
    }
}

char *ww_rx_to_string(const ww_rx_node_t *n)
{
    rx_buf_t b = {0};
    rx_put(&b, "", 0);
    rx_print(&b, n);
    return b.s;
}

/* ======================================================================== */
/* the prepared event                                                        */
/* ======================================================================== */

void ww_rx_view_init(ww_rx_view_t *v)
{
    memset(v, 0, sizeof *v);
    for (int i = 0; i < WW_RX_F__COUNT; i++)
        ww_tokens_init(&v->f[i].toks);
    ww_tokens_init(&v->tmp);
}

void ww_rx_view_deinit(ww_rx_view_t *v)
{
    for (int i = 0; i < WW_RX_F__COUNT; i++) {
        ww_tokens_deinit(&v->f[i].toks);
        ww_free(v->f[i].next);
        ww_free(v->f[i].uniq);
        ww_free(v->f[i].tab);
        ww_free(v->f[i].fb_word);
        ww_free(v->f[i].pos);
    }
    ww_tokens_deinit(&v->tmp);
    ww_free(v->occ);
    ww_free(v->ei);
    ww_free(v->pool);
    ww_free(v->w_off);
    ww_free(v->w_len);
    ww_free(v->w_hash);
    ww_free(v->cp);
    ww_free(v->etab);
    ww_free(v->names);
    ww_free(v->wb);
    ww_free(v->ecand);
    memset(v, 0, sizeof *v);
}

/* Per byte: the folded ASCII letter or digit, 0 for anything else (bytes
 * >= 0x80 never reach the ASCII tokenizer). */
static const unsigned char rx_ascii_fold[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k',
    ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
    ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm',
    ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z'};

/* True when s[0..n) is all ASCII (8 bytes at a time). */
static bool rx_is_ascii(const char *s, size_t n)
{
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

bool ww_rx_filter_prefix(const ww_rx_filter_t *f, size_t n, uint64_t head8)
{
    uint64_t lens = f->pfx_lens;
    size_t max = n < WW_RX_PFX_MAXLEN ? n : WW_RX_PFX_MAXLEN;
    if (max < 63)
        lens &= (2ULL << max) - 1; /* lengths 1..max */
    while (lens) {
        size_t l = (size_t)__builtin_ctzll(lens);
        lens &= lens - 1;
        uint64_t h = l >= 8 ? head8 : head8 & ~(~0ULL << (8 * l));
        if (ww_rx_filter_has(f, ww_rx_fkey_prefix(h, l)))
            return true;
    }
    return false;
}

/* Tokenizes pure-ASCII text exactly like ww_tokenize (same words and folded
 * forms; hashes are ww_rx_word_hash; flags other than WW_TOK_ASCII are not
 * filled: the evaluator does not read them). Unlike ww_tokenize, the folded
 * forms are not NUL-separated: `fold` is a folded copy of the whole text
 * (followed by 8 zero bytes, so that words can be loaded 8 bytes at a time)
 * and each token's fold_off equals its start (readers use fold_len).
 *
 * Two passes. First, 64 bytes at a time: the folded copy and a bit mask of
 * word bytes are made with SSE2 (scalar elsewhere), and the words' starts
 * and ends are read off the mask's 0->1 and 1->0 transitions with
 * count-trailing-zeros into two arrays (wb: room for 2 * (len / 2 + 1)).
 * Then each word is hashed and, with flt, only the words it keeps are
 * stored (pos, room for len / 2 + 1 entries or NULL, gets their word
 * numbers). Returns the number of words in the text. */
static inline __attribute__((always_inline)) uint32_t rx_tokenize_ascii_impl(const char *s, size_t len,
                                                                            ww_tokens_t *out, uint32_t *pos,
                                                                            const ww_rx_filter_t *flt,
                                                                            uint32_t *wb)
{
    size_t max_tok = len / 2 + 1;
    if (out->cap < max_tok)
        WW_GROW(out->toks, out->cap, max_tok);
    if (out->fold_cap < len + 9)
        WW_GROW(out->fold, out->fold_cap, len + 9);
    char *const fold = out->fold;
    uint32_t *const S = wb, *const E = wb + max_tok;
    size_t ns = 0, ne = 0;
    uint64_t carry = 0; /* 1 when a word runs into the current chunk */
    for (size_t base = 0; base < len; base += 64) {
        size_t chunk = len - base < 64 ? len - base : 64;
        uint64_t m = 0;
#if defined(__SSE2__)
        if (chunk == 64) {
            const __m128i a1 = _mm_set1_epi8('A' - 1), z1 = _mm_set1_epi8('Z' + 1);
            const __m128i la = _mm_set1_epi8('a' - 1), lz = _mm_set1_epi8('z' + 1);
            const __m128i d0 = _mm_set1_epi8('0' - 1), d9 = _mm_set1_epi8('9' + 1);
            const __m128i sp = _mm_set1_epi8(32);
            for (int k = 0; k < 4; k++) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + base + 16 * k));
                __m128i up = _mm_and_si128(_mm_cmpgt_epi8(v, a1), _mm_cmplt_epi8(v, z1));
                __m128i lo = _mm_and_si128(_mm_cmpgt_epi8(v, la), _mm_cmplt_epi8(v, lz));
                __m128i dg = _mm_and_si128(_mm_cmpgt_epi8(v, d0), _mm_cmplt_epi8(v, d9));
                _mm_storeu_si128((__m128i *)(void *)(fold + base + 16 * k),
                                 _mm_add_epi8(v, _mm_and_si128(up, sp)));
                uint64_t bits = (uint32_t)_mm_movemask_epi8(_mm_or_si128(up, _mm_or_si128(lo, dg)));
                m |= bits << (16 * k);
            }
        } else
#endif
        {
            for (size_t j = 0; j < chunk; j++) {
                unsigned char c = (unsigned char)s[base + j], f = rx_ascii_fold[c];
                fold[base + j] = (char)(f ? f : c);
                m |= (uint64_t)(f != 0) << j;
            }
        }
        uint64_t shifted = (m << 1) | carry;
        uint64_t starts = m & ~shifted, ends = ~m & shifted;
        if (chunk < 64) /* the text's end closes a word after the loop */
            ends &= (1ULL << chunk) - 1;
        for (; starts; starts &= starts - 1)
            S[ns++] = (uint32_t)(base + (size_t)__builtin_ctzll(starts));
        for (; ends; ends &= ends - 1)
            E[ne++] = (uint32_t)(base + (size_t)__builtin_ctzll(ends));
        carry = m >> 63;
    }
    if (ne < ns)
        E[ne++] = (uint32_t)len;
    memset(fold + len, 0, 9);
    ww_token_t *const toks = out->toks;
    size_t n = 0;
    /* a mask per word length: the first bytes of a word are one load */
    static const uint64_t head_mask[9] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFFULL, 0xFFFFFFFFFFULL,
                                          0xFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFULL, ~0ULL};
    for (size_t k = 0; k < ns; k++) {
        uint32_t ws = S[k], wl = E[k] - ws;
        if (flt) {
            uint64_t w8;
            memcpy(&w8, fold + ws, 8);
            if (!ww_rx_filter_keep(flt, wl, w8 & head_mask[wl < 8 ? wl : 8]))
                continue;
        }
        uint64_t h = ww_rx_word_hash_padded(fold + ws, wl);
        ww_token_t *tk = &toks[n];
        tk->start = ws;
        tk->end = ws + wl;
        tk->fold_off = ws;
        tk->fold_len = wl;
        tk->hash = h;
        tk->flags = WW_TOK_ASCII;
        if (pos)
            pos[n] = (uint32_t)k;
        n++;
    }
    out->n = n;
    out->fold_len = len + 1;
    return (uint32_t)ns;
}

static uint32_t rx_tokenize_ascii_base(const char *s, size_t len, ww_tokens_t *out, uint32_t *pos,
                                       const ww_rx_filter_t *flt, uint32_t *wb)
{
    return rx_tokenize_ascii_impl(s, len, out, pos, flt, wb);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define RX_HAVE_BMI2_CLONE 1
/* The same code compiled for CPUs with AVX2 and BMI2 (variable shifts and
 * bit extraction without flag dependencies: the per-word loop's filter
 * test), chosen at run time. */
__attribute__((target("avx2,bmi,bmi2"))) static uint32_t rx_tokenize_ascii_bmi2(const char *s, size_t len,
                                                                                 ww_tokens_t *out,
                                                                                 uint32_t *pos,
                                                                                 const ww_rx_filter_t *flt,
                                                                                 uint32_t *wb)
{
    return rx_tokenize_ascii_impl(s, len, out, pos, flt, wb);
}
#endif

static uint32_t rx_tokenize_ascii(const char *s, size_t len, ww_tokens_t *out, uint32_t *pos,
                                  const ww_rx_filter_t *flt, uint32_t *wb)
{
#ifdef RX_HAVE_BMI2_CLONE
    static int have = -1; /* -1: not asked yet; written once, same value by any thread */
    int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
    if (h < 0) {
        __builtin_cpu_init();
        const char *base = getenv("WW_MATCHER_BASELINE"); /* tests run both builds of the loop */
        h = (!base || !*base) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
        __atomic_store_n(&have, h, __ATOMIC_RELAXED);
    }
    if (h)
        return rx_tokenize_ascii_bmi2(s, len, out, pos, flt, wb);
#endif
    return rx_tokenize_ascii_base(s, len, out, pos, flt, wb);
}

/* Tokenizes field f (keeping the words flt keeps, all without one) and
 * builds its word table and chains. */
static void rx_field_index(ww_rx_view_t *v, ww_rx_field_t *f, const ww_rx_filter_t *flt)
{
    if (f->cap_pos < f->len / 2 + 1)
        WW_GROW(f->pos, f->cap_pos, f->len / 2 + 1);
    if (rx_is_ascii(f->text, f->len)) {
        if (v->cap_wb < 2 * (f->len / 2 + 1))
            WW_GROW(v->wb, v->cap_wb, 2 * (f->len / 2 + 1));
        f->n_words = rx_tokenize_ascii(f->text, f->len, &f->toks, f->pos, flt, v->wb);
    } else {
        ww_tokenize(f->text, f->len, &f->toks);
        f->n_words = f->toks.n;
        if (f->cap_pos < f->toks.n + 1)
            WW_GROW(f->pos, f->cap_pos, f->toks.n + 1);
        size_t m = 0;
        for (size_t k = 0; k < f->toks.n; k++) { /* the matcher's word hash; the filter */
            ww_token_t *tk = &f->toks.toks[k];
            tk->hash = ww_rx_word_hash(ww_token_fold(&f->toks, k), tk->fold_len);
            const char *w = ww_token_fold(&f->toks, k);
            if (flt && !ww_rx_filter_keep(flt, tk->fold_len, ww_rx_head8(w, tk->fold_len)))
                continue;
            f->toks.toks[m] = *tk;
            f->pos[m++] = (uint32_t)k;
        }
        f->toks.n = m;
    }
    size_t n = f->toks.n;
    size_t want = 16; /* more slots than tokens: a probe always ends (load ~0.4 for text) */
    while (want <= n)
        want *= 2;
    if (want > f->tab_mask + 1 || !f->tab) {
        ww_free(f->tab);
        f->tab = ww_calloc(want, sizeof *f->tab);
        f->tab_mask = want - 1;
        f->stamp = 0;
    }
    if (++f->stamp == 0) {
        memset(f->tab, 0, (f->tab_mask + 1) * sizeof *f->tab);
        f->stamp = 1;
    }
    WW_GROW(f->next, f->cap_next, n + 1);
    WW_GROW(f->uniq, f->cap_uniq, n + 1);
    /* locals: the stores below must not make the compiler reload f's fields */
    ww_rx_wslot_t *const tab = f->tab;
    const size_t mask = f->tab_mask;
    const uint32_t stamp = f->stamp;
    uint32_t *const next = f->next, *const uniq = f->uniq;
    const ww_token_t *const toks = f->toks.toks;
    size_t n_uniq = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t h = toks[k].hash;
        uint32_t tag = (uint32_t)(h >> 32);
        size_t slot = (size_t)h & mask;
        next[k] = UINT32_MAX;
        for (;;) {
            ww_rx_wslot_t *e = &tab[slot];
            if (e->stamp != stamp) {
                e->stamp = stamp;
                e->tag = tag;
                e->first = e->last = (uint32_t)k;
                uniq[n_uniq++] = (uint32_t)k;
                break;
            }
            if (e->tag == tag && toks[e->first].hash == h) {
                next[e->last] = (uint32_t)k;
                e->last = (uint32_t)k;
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    f->n_uniq = n_uniq;
    f->fb_ready = false;
}

/* Groups the field's distinct words by their first folded byte (a counting
 * sort, kept in text order within a group) for prefix searches. */
static void rx_field_need_fb(ww_rx_field_t *f)
{
    if (f->fb_ready)
        return;
    WW_GROW(f->fb_word, f->cap_fb, f->n_uniq + 1);
    uint32_t cnt[257] = {0};
    for (size_t u = 0; u < f->n_uniq; u++)
        cnt[(unsigned char)ww_token_fold(&f->toks, f->uniq[u])[0] + 1]++;
    f->fb_start[0] = 0;
    for (int c = 0; c < 256; c++)
        f->fb_start[c + 1] = f->fb_start[c] + cnt[c + 1];
    uint32_t pos[256];
    memcpy(pos, f->fb_start, sizeof pos);
    for (size_t u = 0; u < f->n_uniq; u++) {
        unsigned char c = (unsigned char)ww_token_fold(&f->toks, f->uniq[u])[0];
        f->fb_word[pos[c]++] = f->uniq[u];
    }
    f->fb_ready = true;
}

uint32_t ww_rx_field_find(const ww_rx_field_t *f, uint64_t h)
{
    if (!f->tab)
        return UINT32_MAX;
    size_t slot = (size_t)h & f->tab_mask;
    for (;;) {
        const ww_rx_wslot_t *e = &f->tab[slot];
        if (e->stamp != f->stamp)
            return UINT32_MAX;
        if (e->tag == (uint32_t)(h >> 32) && f->toks.toks[e->first].hash == h)
            return e->first;
        slot = (slot + 1) & f->tab_mask;
    }
}

void ww_rx_view_prepare(ww_rx_view_t *v, const ww_event_t *ev, const ww_rx_filter_t *flt)
{
    const char *texts[WW_RX_F__COUNT] = {ev->title, ev->body, ev->source, ev->lang};
    v->ev = ev;
    v->n_occ = 0;
    v->ents_ready = false;
    for (int i = 0; i < WW_RX_F__COUNT; i++) {
        ww_rx_field_t *f = &v->f[i];
        f->text = texts[i] ? texts[i] : "";
        f->len = strlen(f->text);
        rx_field_index(v, f, flt);
    }
}

/* Appends the case-folded s[0..n) to v->pool without allocating once warm.
 * Returns its offset; *out_len gets its length. Same folding as ww_casefold. */
static uint32_t rx_fold_into_pool(ww_rx_view_t *v, const char *s, size_t n, uint32_t *out_len)
{
    uint32_t off = (uint32_t)v->pool_len;
    /* ASCII, 8 bytes at a time: A-Z are the bytes b with b + 0x3F >= 0x80 and
     * b + 0x25 < 0x80 (no carry crosses bytes below 0x80); they get 0x20 */
    WW_GROW(v->pool, v->pool_cap, v->pool_len + n + 9);
    char *d = v->pool + v->pool_len;
    size_t i = 0;
    bool ascii = true;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        if (x & 0x8080808080808080ULL) {
            ascii = false;
            break;
        }
        uint64_t up = ((x + 0x3F3F3F3F3F3F3F3FULL) ^ (x + 0x2525252525252525ULL)) & 0x8080808080808080ULL;
        x |= up >> 2;
        memcpy(d + i, &x, 8);
    }
    for (; ascii && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        ascii = c < 0x80;
        d[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    if (ascii) {
        v->pool_len += n;
        *out_len = (uint32_t)n;
        return off;
    }
    const utf8proc_option_t opt = UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE;
    utf8proc_ssize_t r = 0;
    for (;;) {
        r = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, v->cp,
                               (utf8proc_ssize_t)v->cap_cp, opt);
        if (r < 0 || (size_t)r <= v->cap_cp)
            break;
        WW_GROW(v->cp, v->cap_cp, (size_t)r);
    }
    if (r >= 0)
        r = utf8proc_reencode(v->cp, r, opt);
    const char *src = r >= 0 ? (const char *)v->cp : s;
    size_t len = r >= 0 ? (size_t)r : n;
    WW_GROW(v->pool, v->pool_cap, v->pool_len + len + 1);
    if (len)
        memcpy(v->pool + v->pool_len, src, len);
    v->pool_len += len;
    *out_len = (uint32_t)len;
    return off;
}

/* The name entity i is filed under: its canonical (which = 0) or its text
 * (which = 1), as written ("" when absent). */
static const char *rx_ent_raw(const ww_event_t *ev, size_t i, int which)
{
    const char *r = which ? ev->entities[i].text : ev->entities[i].canonical;
    return r ? r : "";
}

/* Bounds of the name cache: past them it is emptied between two events.
 * Small on purpose: measured on 2,000 distinct enriched events, a cache of
 * 16,384 names (about 1 MB with its strings) ran ~15 % faster than one of
 * 65,536 (8 MB), whose random probes miss the CPU caches; names that recur
 * within minutes of news are still found. */
#ifndef RX_NAMES_MAX
#define RX_NAMES_MAX 16384
#endif
#ifndef RX_POOL_MAX
#define RX_POOL_MAX (2u << 20)
#endif

/* Makes room for n more pool bytes plus the 8 readable ones after them. */
static void rx_pool_need(ww_rx_view_t *v, size_t n)
{
    WW_GROW(v->pool, v->pool_cap, v->pool_len + n + 9);
}

/* Makes room for n more words in the word arrays. */
static void rx_words_need(ww_rx_view_t *v, size_t n)
{
    if (v->w_n + n <= v->w_cap)
        return;
    size_t cap = v->w_cap;
    WW_GROW(v->w_off, cap, v->w_n + n);
    cap = v->w_cap;
    WW_GROW(v->w_len, cap, v->w_n + n);
    WW_GROW(v->w_hash, v->w_cap, v->w_n + n);
}

/* Splits name e's folding into words (their offsets, lengths and hashes in
 * the word arrays), once. raw is its raw string. */
static void rx_name_words(ww_rx_view_t *v, ww_rx_name_t *e, const char *raw)
{
    if (e->w_n != UINT32_MAX)
        return;
    e->w_off = (uint32_t)v->w_n;
    if (e->fold_len == e->raw_len && rx_is_ascii(raw, e->raw_len)) {
        /* the usual case: the words are read off the folding in the pool
         * (8 readable bytes past it: hashed 8 bytes at a time) */
        rx_words_need(v, e->fold_len / 2 + 1);
        const char *c = v->pool + e->fold_off;
        uint32_t k = 0, n = e->fold_len;
        while (k < n) {
            while (k < n && !rx_ascii_fold[(unsigned char)c[k]])
                k++;
            uint32_t ws = k;
            while (k < n && rx_ascii_fold[(unsigned char)c[k]])
                k++;
            if (k == ws)
                break;
            v->w_off[v->w_n] = e->fold_off + ws;
            v->w_len[v->w_n] = k - ws;
            v->w_hash[v->w_n] = ww_rx_word_hash_padded(c + ws, k - ws);
            v->w_n++;
        }
    } else {
        ww_tokenize(raw, e->raw_len, &v->tmp);
        rx_words_need(v, v->tmp.n);
        for (size_t k = 0; k < v->tmp.n; k++) {
            uint32_t len = v->tmp.toks[k].fold_len;
            rx_pool_need(v, len);
            v->w_off[v->w_n] = (uint32_t)v->pool_len;
            v->w_len[v->w_n] = len;
            v->w_hash[v->w_n] = ww_rx_word_hash(ww_token_fold(&v->tmp, k), len);
            memcpy(v->pool + v->pool_len, ww_token_fold(&v->tmp, k), len);
            v->pool_len += len;
            v->w_n++;
        }
    }
    e->w_n = (uint32_t)(v->w_n - e->w_off);
}

/* The cache entry of raw[0..len), made (copied and folded) when new. The
 * table has room (rx_names_prepare). */
static ww_rx_name_t *rx_name_get(ww_rx_view_t *v, const char *raw, size_t len)
{
    uint64_t h = ww_hash_bytes(raw, len);
    size_t mask = v->etab_cap - 1, slot = (size_t)h & mask;
    for (uint32_t x; (x = v->etab[slot]) != 0; slot = (slot + 1) & mask) {
        ww_rx_name_t *e = &v->names[x - 1];
        if (e->raw_hash == h && e->raw_len == len && memcmp(v->pool + e->raw_off, raw, len) == 0)
            return e;
    }
    WW_GROW(v->names, v->cap_names, v->n_names + 1);
    ww_rx_name_t *e = &v->names[v->n_names++];
    v->etab[slot] = (uint32_t)v->n_names;
    memset(e, 0, sizeof *e);
    e->raw_hash = h;
    e->raw_len = (uint32_t)len;
    rx_pool_need(v, len);
    e->raw_off = (uint32_t)v->pool_len;
    memcpy(v->pool + v->pool_len, raw, len);
    v->pool_len += len;
    e->fold_off = rx_fold_into_pool(v, raw, len, &e->fold_len);
    rx_pool_need(v, 0);
    memset(v->pool + v->pool_len, 0, 8);
    e->fold_hash = ww_rx_word_hash(v->pool + e->fold_off, e->fold_len);
    e->w_n = UINT32_MAX;
    return e;
}

/* Empties the name cache when it outgrew its bounds, and sizes its table
 * for n more names. Between events only (ei offsets point into it). */
static void rx_names_prepare(ww_rx_view_t *v, size_t n)
{
    if (v->n_names + n > RX_NAMES_MAX || v->pool_len > RX_POOL_MAX) {
        v->n_names = 0;
        v->pool_len = 0;
        v->w_n = 0;
        if (v->etab)
            memset(v->etab, 0, v->etab_cap * sizeof *v->etab);
    }
    size_t want = v->etab_cap ? v->etab_cap : 256;
    while (want < (v->n_names + n) * 2)
        want *= 2;
    if (want == v->etab_cap)
        return;
    ww_free(v->etab);
    v->etab = ww_calloc(want, sizeof *v->etab);
    v->etab_cap = want;
    for (size_t i = 0; i < v->n_names; i++) {
        size_t slot = (size_t)v->names[i].raw_hash & (want - 1);
        while (v->etab[slot])
            slot = (slot + 1) & (want - 1);
        v->etab[slot] = (uint32_t)i + 1;
    }
}

/* Builds the folded forms of every entity of the event from the name
 * cache: a name already seen (in this event or an earlier one) costs a
 * hash and a comparison. */
void ww_rx_view_need_ents(ww_rx_view_t *v)
{
    if (v->ents_ready)
        return;
    const ww_event_t *ev = v->ev;
    WW_GROW(v->ei, v->cap_ei, ev->n_entities + 1);
    rx_names_prepare(v, 2 * ev->n_entities);
    if (++v->epoch == 0) {
        for (size_t i = 0; i < v->n_names; i++)
            v->names[i].cstamp = v->names[i].tstamp = 0;
        v->epoch = 1;
    }
    for (size_t i = 0; i < ev->n_entities; i++) {
        ww_rx_entinfo_t *ei = &v->ei[i];
        const char *canon = rx_ent_raw(ev, i, 0), *text = rx_ent_raw(ev, i, 1);
        ww_rx_name_t *c = rx_name_get(v, canon, strlen(canon));
        rx_name_words(v, c, canon);
        ei->canon_off = c->fold_off;
        ei->canon_len = c->fold_len;
        ei->canon_hash = c->fold_hash;
        ei->w_off = c->w_off;
        ei->w_n = c->w_n;
        ei->canon_repeat = c->cstamp == v->epoch;
        c->cstamp = v->epoch;
        ww_rx_name_t *t = strcmp(text, canon) == 0 ? c : rx_name_get(v, text, strlen(text));
        ei->text_off = t->fold_off;
        ei->text_len = t->fold_len;
        ei->text_hash = t->fold_hash;
        ei->text_repeat = t->tstamp == v->epoch;
        t->tstamp = v->epoch;
    }
    v->ents_ready = true;
}

/* ======================================================================== */
/* evaluation                                                                */
/* ======================================================================== */

/* The fields a scope searches, in reporting order; returns how many. */
static int rx_scope_fields(ww_rx_scope_t sc, int out[2])
{
    switch (sc) {
    case WW_RX_SC_TEXT:
        out[0] = WW_RX_F_TITLE;
        out[1] = WW_RX_F_BODY;
        return 2;
    case WW_RX_SC_TITLE: out[0] = WW_RX_F_TITLE; return 1;
    case WW_RX_SC_BODY: out[0] = WW_RX_F_BODY; return 1;
    case WW_RX_SC_SOURCE: out[0] = WW_RX_F_SOURCE; return 1;
    case WW_RX_SC_LANG: out[0] = WW_RX_F_LANG; return 1;
    }
    return 0;
}

static bool rx_tok_is(const ww_rx_field_t *f, size_t idx, const ww_rx_term_t *t, uint32_t i)
{
    const ww_token_t *tk = &f->toks.toks[idx];
    if (t->prefix && i == t->n - 1)
        return tk->fold_len >= t->len[i] &&
               memcmp(ww_token_fold(&f->toks, idx), t->w[i], t->len[i]) == 0;
    return tk->hash == t->hash[i] && tk->fold_len == t->len[i] &&
           memcmp(ww_token_fold(&f->toks, idx), t->w[i], t->len[i]) == 0;
}

/* True when the term's words sit at tokens p .. p+n-1, consecutive words
 * of the field (a term's words all pass the filter, so the words after
 * token p are the next tokens when they are the term's). */
static bool rx_term_at(const ww_rx_field_t *f, size_t p, const ww_rx_term_t *t)
{
    if (p + t->n > f->toks.n || f->pos[p + t->n - 1] - f->pos[p] != t->n - 1)
        return false;
    for (uint32_t i = 0; i < t->n; i++)
        if (!rx_tok_is(f, p + i, t, i))
            return false;
    return true;
}

static inline void rx_occ_push(ww_rx_view_t *v, uint32_t idx)
{
    if (v->n_occ + 1 > v->cap_occ)
        WW_GROW(v->occ, v->cap_occ, v->n_occ + 1);
    v->occ[v->n_occ++] = idx;
}

static int rx_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void ww_rx_sort_u32(uint32_t *a, size_t n)
{
    if (n > 48) {
        qsort(a, n, sizeof *a, rx_cmp_u32);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

/* Pushes the start token of every occurrence of t in field fi, ascending, on
 * v->occ (only the first when first_only). Returns how many were pushed. */
static size_t rx_term_occ(ww_rx_view_t *v, int fi, const ww_rx_term_t *t, bool first_only)
{
    ww_rx_field_t *f = &v->f[fi];
    size_t base = v->n_occ;
    if (!(t->n == 1 && t->prefix)) {
        for (uint32_t k = ww_rx_field_find(f, t->hash[0]); k != UINT32_MAX; k = f->next[k]) {
            if (rx_term_at(f, k, t)) {
                rx_occ_push(v, k);
                if (first_only)
                    break;
            }
        }
        return v->n_occ - base;
    }
    /* a lone prefix: every distinct word starting with it (only those with
     * the same first byte are looked at), then its chain */
    rx_field_need_fb(f);
    uint32_t best = UINT32_MAX;
    unsigned char c0 = (unsigned char)t->w[0][0];
    for (uint32_t u = f->fb_start[c0]; u < f->fb_start[c0 + 1]; u++) {
        uint32_t k = f->fb_word[u];
        const ww_token_t *tk = &f->toks.toks[k];
        const char *w = ww_token_fold(&f->toks, k);
        if (tk->fold_len < t->len[0] || (t->len[0] > 1 && w[1] != t->w[0][1]) ||
            memcmp(w, t->w[0], t->len[0]) != 0)
            continue;
        if (first_only) { /* text order within a group: the first hit is the earliest */
            best = k;
            break;
        }
        for (; k != UINT32_MAX; k = f->next[k])
            rx_occ_push(v, k);
    }
    if (first_only) {
        if (best != UINT32_MAX)
            rx_occ_push(v, best);
    } else if (v->n_occ - base > 1) {
        ww_rx_sort_u32(v->occ + base, v->n_occ - base);
    }
    return v->n_occ - base;
}

/* First occurrence of t in field fi: its first and last token. */
static bool rx_term_first(ww_rx_view_t *v, int fi, const ww_rx_term_t *t, uint32_t *s, uint32_t *e)
{
    size_t base = v->n_occ;
    bool found = rx_term_occ(v, fi, t, true) > 0;
    if (found) {
        *s = v->occ[base];
        *e = *s + t->n - 1;
    }
    v->n_occ = base;
    return found;
}

/* First index i in b[0..n) (ascending token numbers) with pos[b[i]] >= x. */
static size_t rx_lower_pos(const uint32_t *b, size_t n, const uint32_t *pos, uint32_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pos[b[mid]] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The earliest occurrence (smallest first word, then smallest last word)
 * of a NEAR/n b in field fi: a and b disjoint, in either order, with at most
 * n words between them. Distances are in words (pos), *s and *e are the
 * first and last token. */
static bool rx_near_first(ww_rx_view_t *v, int fi, const ww_rx_node_t *node, uint32_t *s,
                          uint32_t *e)
{
    size_t base = v->n_occ;
    size_t na = rx_term_occ(v, fi, &node->a, false);
    if (na == 0) {
        v->n_occ = base;
        return false;
    }
    size_t bbase = v->n_occ;
    size_t nb = rx_term_occ(v, fi, &node->b, false);
    const uint32_t *A = v->occ + base, *B = v->occ + bbase, *P = v->f[fi].pos;
    uint64_t la = node->a.n, lb = node->b.n, n = node->near_n;
    bool found = false;
    uint64_t bs = 0, be = 0;   /* best span, in words */
    uint32_t ts = 0, te = 0;   /* and in tokens */
    for (size_t i = 0; i < na && nb > 0; i++) {
        uint64_t a = P[A[i]];
        if (found && a > bs + n + lb)
            break;
        /* b after a: a+la <= b <= a+la+n */
        size_t k = rx_lower_pos(B, nb, P, (uint32_t)(a + la));
        if (k < nb && P[B[k]] <= a + la + n) {
            uint64_t cs = a, ce = P[B[k]] + lb - 1;
            if (!found || cs < bs || (cs == bs && ce < be)) {
                found = true;
                bs = cs;
                be = ce;
                ts = A[i];
                te = B[k] + (uint32_t)lb - 1;
            }
        }
        /* b before a: a-n <= b+lb <= a */
        uint64_t lo = a >= n + lb ? a - n - lb : 0;
        k = rx_lower_pos(B, nb, P, (uint32_t)lo);
        if (k < nb && P[B[k]] + lb <= a) {
            uint64_t cs = P[B[k]], ce = a + la - 1;
            if (!found || cs < bs || (cs == bs && ce < be)) {
                found = true;
                bs = cs;
                be = ce;
                ts = B[k];
                te = A[i] + (uint32_t)la - 1;
            }
        }
    }
    v->n_occ = base;
    if (found) {
        *s = ts;
        *e = te;
    }
    return found;
}

/* Does entity i of the event satisfy the entity node? */
static bool rx_ent_match(ww_rx_view_t *v, const ww_rx_node_t *n, size_t i)
{
    const ww_entity_t *e = &v->ev->entities[i];
    if (n->has_type && e->type != n->type)
        return false;
    if (!n->name_fold)
        return true;
    ww_rx_view_need_ents(v);
    const ww_rx_entinfo_t *ei = &v->ei[i];
    if (n->name_fold_len == ei->canon_len &&
        memcmp(n->name_fold, v->pool + ei->canon_off, ei->canon_len) == 0)
        return true;
    if (n->name_fold_len == ei->text_len &&
        memcmp(n->name_fold, v->pool + ei->text_off, ei->text_len) == 0)
        return true;
    const ww_rx_term_t *nw = &n->name_words;
    if (nw->n == 0 || nw->n > ei->w_n)
        return false;
    /* the name's words at the start, then at the end, of the canonical's words */
    for (int side = 0; side < 2; side++) {
        uint32_t first = ei->w_off + (side == 0 ? 0 : ei->w_n - nw->n);
        bool ok = true;
        for (uint32_t k = 0; k < nw->n && ok; k++) {
            uint32_t w = first + k;
            ok = v->w_hash[w] == nw->hash[k] && v->w_len[w] == nw->len[k] &&
                 memcmp(v->pool + v->w_off[w], nw->w[k], nw->len[k]) == 0;
        }
        if (ok)
            return true;
    }
    return false;
}

/* The entities that may satisfy entity node n (which has a name), in
 * v->ecand, ascending: a match needs the folded canonical or text to equal
 * the name, or the name's first or last word to start or end the
 * canonical; hashes of all of these are at hand, so one pass of compares
 * finds them. Returns how many. */
static size_t rx_ent_cands(ww_rx_view_t *v, const ww_rx_node_t *n)
{
    ww_rx_view_need_ents(v);
    size_t ne = v->ev->n_entities, c = 0;
    if (v->cap_ecand < ne + 1)
        WW_GROW(v->ecand, v->cap_ecand, ne + 1);
    const uint64_t h = n->name_hash;
    const ww_rx_term_t *nw = &n->name_words;
    const uint64_t f0 = nw->n ? nw->hash[0] : 0, fl = nw->n ? nw->hash[nw->n - 1] : 0;
    for (size_t i = 0; i < ne; i++) {
        const ww_rx_entinfo_t *ei = &v->ei[i];
        bool maybe = ei->canon_hash == h || ei->text_hash == h;
        if (!maybe && nw->n && ei->w_n >= nw->n)
            maybe = v->w_hash[ei->w_off] == f0 || v->w_hash[ei->w_off + ei->w_n - 1] == fl;
        if (maybe)
            v->ecand[c++] = (uint32_t)i;
    }
    return c;
}

bool ww_rx_eval(const ww_rx_node_t *n, ww_rx_view_t *v)
{
    int fields[2];
    uint32_t s, e;
    switch (n->kind) {
    case WW_RX_TERM: {
        int nf = rx_scope_fields(n->scope, fields);
        for (int i = 0; i < nf; i++)
            if (rx_term_first(v, fields[i], &n->a, &s, &e))
                return true;
        return false;
    }
    case WW_RX_NEAR: {
        int nf = rx_scope_fields(n->scope, fields);
        for (int i = 0; i < nf; i++)
            if (rx_near_first(v, fields[i], n, &s, &e))
                return true;
        return false;
    }
    case WW_RX_ENTITY:
        if (n->name_fold && v->ev->n_entities > 8) {
            size_t c = rx_ent_cands(v, n);
            for (size_t i = 0; i < c; i++)
                if (rx_ent_match(v, n, v->ecand[i]))
                    return true;
            return false;
        }
        for (size_t i = 0; i < v->ev->n_entities; i++)
            if (rx_ent_match(v, n, i))
                return true;
        return false;
    case WW_RX_AND:
        for (size_t i = 0; i < n->n_kids; i++)
            if (!ww_rx_eval(n->kids[i], v))
                return false;
        return true;
    case WW_RX_OR:
        for (size_t i = 0; i < n->n_kids; i++)
            if (ww_rx_eval(n->kids[i], v))
                return true;
        return false;
    case WW_RX_NOT:
        return !ww_rx_eval(n->kids[0], v);
    }
    return false;
}

/* Evidence of a keyword-ish node found in field fi at tokens s..e. */
static void rx_add_keyword(ww_rx_view_t *v, int fi, uint32_t s, uint32_t e, ww_hit_t *hit)
{
    const ww_rx_field_t *f = &v->f[fi];
    uint32_t bs = f->toks.toks[s].start, be = f->toks.toks[e].end;
    bool pos = fi == WW_RX_F_TITLE || fi == WW_RX_F_BODY;
    ww_rules_hit_add(hit, WW_MATCH_KEYWORD, f->text + bs, be - bs, WW_ENT_PER, pos,
                     pos ? (ww_field_t)fi : WW_FIELD_TITLE, pos ? bs : 0, pos ? be : 0, 0);
}

/* Orders entity mentions: title before body, then by start. */
static bool rx_mention_before(const ww_entity_t *x, const ww_entity_t *y)
{
    if (x->field != y->field)
        return x->field < y->field;
    return x->start < y->start;
}

/* The name an entity is reported under: its canonical form, else its text. */
static const char *rx_ent_key(const ww_entity_t *x)
{
    if (x->canonical && x->canonical[0])
        return x->canonical;
    return x->text ? x->text : "";
}

static bool rx_same_entity(const ww_entity_t *x, const ww_entity_t *y)
{
    return x->type == y->type && strcmp(rx_ent_key(x), rx_ent_key(y)) == 0;
}

void ww_rx_evidence(const ww_rx_node_t *n, ww_rx_view_t *v, ww_hit_t *hit)
{
    int fields[2];
    uint32_t s, e;
    switch (n->kind) {
    case WW_RX_TERM: {
        int nf = rx_scope_fields(n->scope, fields);
        for (int i = 0; i < nf; i++) {
            if (rx_term_first(v, fields[i], &n->a, &s, &e)) {
                rx_add_keyword(v, fields[i], s, e, hit);
                break;
            }
        }
        return;
    }
    case WW_RX_NEAR: {
        int nf = rx_scope_fields(n->scope, fields);
        for (int i = 0; i < nf; i++) {
            if (rx_near_first(v, fields[i], n, &s, &e)) {
                rx_add_keyword(v, fields[i], s, e, hit);
                break;
            }
        }
        return;
    }
    case WW_RX_ENTITY: {
        /* the matching mentions, each tested once; then one match per
         * (type, canonical), at its earliest mention with the largest count */
        const ww_event_t *ev = v->ev;
        size_t base = v->n_occ;
        if (n->name_fold && ev->n_entities > 8) {
            size_t c = rx_ent_cands(v, n);
            for (size_t i = 0; i < c; i++)
                if (rx_ent_match(v, n, v->ecand[i]))
                    rx_occ_push(v, v->ecand[i]);
        } else {
            for (size_t i = 0; i < ev->n_entities; i++)
                if (rx_ent_match(v, n, i))
                    rx_occ_push(v, (uint32_t)i);
        }
        size_t m = v->n_occ - base;
        for (size_t a = 0; a < m; a++) {
            const ww_entity_t *ea = &ev->entities[v->occ[base + a]];
            bool seen = false;
            for (size_t b = 0; b < a && !seen; b++)
                seen = rx_same_entity(&ev->entities[v->occ[base + b]], ea);
            if (seen)
                continue;
            const ww_entity_t *first = ea;
            uint32_t count = ea->count;
            for (size_t b = a + 1; b < m; b++) {
                const ww_entity_t *o = &ev->entities[v->occ[base + b]];
                if (!rx_same_entity(o, ea))
                    continue;
                if (o->count > count)
                    count = o->count;
                if (rx_mention_before(o, first))
                    first = o;
            }
            const char *val = rx_ent_key(ea);
            ww_rules_hit_add(hit, WW_MATCH_ENTITY, val, strlen(val), first->type, true,
                             first->field, first->start, first->end, count);
        }
        v->n_occ = base;
        return;
    }
    case WW_RX_AND:
    case WW_RX_OR:
        for (size_t i = 0; i < n->n_kids; i++)
            ww_rx_evidence(n->kids[i], v, hit);
        return;
    case WW_RX_NOT:
        return;
    }
}

/* ======================================================================== */
/* explanations                                                              */
/* ======================================================================== */

static const char *const rx_field_names[WW_RX_F__COUNT] = {"title", "body", "source", "lang"};

/* Appends printf-formatted text to *buf. */
static void rx_catf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void rx_catf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ww_vappendf(buf, cap, len, fmt, ap);
    va_end(ap);
}

/* Appends at most 60 bytes of the field text between tokens s..e, quoted. */
static void rx_cat_span(char **buf, size_t *len, size_t *cap, const ww_rx_field_t *f, uint32_t s,
                        uint32_t e)
{
    uint32_t bs = f->toks.toks[s].start, be = f->toks.toks[e].end;
    int n = (int)(be - bs > 60 ? 60 : be - bs);
    rx_catf(buf, len, cap, "%s %u-%u \"%.*s%s\"", "at", bs, be, n, f->text + bs,
            be - bs > 60 ? "..." : "");
}

static void rx_explain_node(const ww_rx_node_t *n, ww_rx_view_t *v, int depth, char **buf,
                            size_t *len, size_t *cap)
{
    bool ok = ww_rx_eval(n, v);
    char *label = ww_rx_to_string(n);
    rx_catf(buf, len, cap, "%*s%s %s", depth * 2, "", ok ? "yes" : "no ", label);
    ww_free(label);
    int fields[2] = {0, 0};
    uint32_t s, e;
    switch (n->kind) {
    case WW_RX_TERM:
    case WW_RX_NEAR: {
        int nf = rx_scope_fields(n->scope, fields);
        bool any = false;
        for (int i = 0; i < nf; i++) {
            bool f = n->kind == WW_RX_TERM ? rx_term_first(v, fields[i], &n->a, &s, &e)
                                           : rx_near_first(v, fields[i], n, &s, &e);
            if (!f)
                continue;
            rx_catf(buf, len, cap, "%s %s ", any ? ";" : ":", rx_field_names[fields[i]]);
            rx_cat_span(buf, len, cap, &v->f[fields[i]], s, e);
            any = true;
        }
        if (!any) {
            rx_catf(buf, len, cap, ": not in %s", rx_field_names[fields[0]]);
            if (nf > 1)
                rx_catf(buf, len, cap, " or %s", rx_field_names[fields[1]]);
        }
        rx_catf(buf, len, cap, "\n");
        return;
    }
    case WW_RX_ENTITY: {
        bool any = false;
        for (size_t i = 0; i < v->ev->n_entities; i++) {
            if (!rx_ent_match(v, n, i))
                continue;
            const ww_entity_t *x = &v->ev->entities[i];
            rx_catf(buf, len, cap, "%s %s \"%s\" (%s \"%s\") %s %u-%u", any ? ";" : ":",
                    ww_rx_ent_type_name(x->type) ? ww_rx_ent_type_name(x->type) : "?",
                    rx_ent_key(x), "as", x->text ? x->text : "",
                    x->field == WW_FIELD_TITLE ? "title" : "body", x->start, x->end);
            any = true;
        }
        if (!any)
            rx_catf(buf, len, cap, ": no such entity among the event's %zu", v->ev->n_entities);
        rx_catf(buf, len, cap, "\n");
        return;
    }
    case WW_RX_AND:
    case WW_RX_OR:
        if (n->kind == WW_RX_AND && !ok)
            rx_catf(buf, len, cap, ": fails (a condition below is not met)");
        if (n->kind == WW_RX_OR && !ok)
            rx_catf(buf, len, cap, ": fails (no alternative below is met)");
        rx_catf(buf, len, cap, "\n");
        for (size_t i = 0; i < n->n_kids; i++)
            rx_explain_node(n->kids[i], v, depth + 1, buf, len, cap);
        return;
    case WW_RX_NOT:
        if (!ok)
            rx_catf(buf, len, cap, ": fails (the negated condition is present)");
        rx_catf(buf, len, cap, "\n");
        rx_explain_node(n->kids[0], v, depth + 1, buf, len, cap);
        return;
    }
}

char *ww_rx_explain(const ww_rx_node_t *n, ww_rx_view_t *v, bool *matched)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    rx_catf(&buf, &len, &cap, "%s", "");
    rx_explain_node(n, v, 0, &buf, &len, &cap);
    if (matched)
        *matched = ww_rx_eval(n, v);
    return buf;
}
