/* extract.c - the first extractor: capitalised spans typed with a gazetteer and
 * a few rules, number patterns (DATE, MONEY, PERCENT), quote attribution and
 * frequency keywords. Everything works on ww_tokenize's words and their byte
 * offsets; a warm scratch allocates nothing but the strings handed to the
 * event.
 *
 * Per event: both fields are tokenized and annotated (word classes, gaps,
 * sentence starts); the body is analysed first so that a headline whose case
 * says nothing (ALL CAPS, Title Case) can reuse the body's names; then names
 * are resolved across the document (short forms of people, counts) and the
 * mentions are handed to the event in field/offset order. */
#include "ww/extract.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/gazetteer.h"
#include "ww/keywords.h"
#include "ww/log.h"
#include "ww/ner.h"
#include "ww/paths.h"
#include "ww/text.h"

/* ---- word classes ------------------------------------------------------------ */

#define WC_STOP 0x0001u    /* function word: no name starts with it, no keyword */
#define WC_CONN 0x0002u    /* may join two capitalised words: of, de, van, al ... */
#define WC_ORGSUF 0x0004u  /* last word of an organisation: Inc, Bank, Party ... */
#define WC_ORGHEAD 0x0008u /* first word of an organisation: Ministry, University ... */
#define WC_SPEECH 0x0010u  /* said, says, told ... */
#define WC_WEEKDAY 0x0020u
#define WC_MONTH 0x0040u
#define WC_MONTH_WEAK 0x0080u /* month that needs a day or year to be a date (May, Jan) */
#define WC_MAGN 0x0100u       /* million, billion ... */
#define WC_PCT 0x0200u        /* percent, pct */
#define WC_PRONOUN 0x0400u    /* he, she: the speaker is the last person named */
#define WC_ABBR 0x0800u       /* a '.' after it does not end the sentence */
#define WC_AND 0x1000u        /* "and": joins only inside organisation names */
#define WC_FUNC 0x2000u       /* short function word an all-caps headline may spell (WHO, IT) */

typedef struct {
    const char *w;
    uint32_t c;
} word_class_t;

static const word_class_t word_classes[] = {
    /* connectors */
    {"of", WC_CONN | WC_STOP | WC_FUNC}, {"de", WC_CONN}, {"van", WC_CONN}, {"von", WC_CONN},
    {"der", WC_CONN}, {"den", WC_CONN}, {"al", WC_CONN}, {"el", WC_CONN}, {"bin", WC_CONN},
    {"da", WC_CONN}, {"du", WC_CONN}, {"la", WC_CONN}, {"le", WC_CONN}, {"di", WC_CONN},
    {"del", WC_CONN}, {"des", WC_CONN}, {"y", WC_CONN}, {"ibn", WC_CONN}, {"abu", 0},
    {"and", WC_CONN | WC_AND | WC_STOP | WC_FUNC}, {"the", WC_CONN | WC_STOP | WC_FUNC},
    {"for", WC_CONN | WC_STOP | WC_FUNC},
    /* organisation words */
    {"inc", WC_ORGSUF | WC_ABBR}, {"corp", WC_ORGSUF | WC_ABBR}, {"corporation", WC_ORGSUF},
    {"ltd", WC_ORGSUF | WC_ABBR}, {"llc", WC_ORGSUF}, {"plc", WC_ORGSUF}, {"ag", WC_ORGSUF},
    {"sa", WC_ORGSUF}, {"gmbh", WC_ORGSUF}, {"co", WC_ORGSUF | WC_ABBR}, {"company", WC_ORGSUF},
    {"group", WC_ORGSUF}, {"holdings", WC_ORGSUF}, {"bank", WC_ORGSUF | WC_ORGHEAD},
    {"ministry", WC_ORGSUF | WC_ORGHEAD}, {"department", WC_ORGSUF | WC_ORGHEAD},
    {"university", WC_ORGSUF | WC_ORGHEAD}, {"college", WC_ORGSUF | WC_ORGHEAD},
    {"institute", WC_ORGSUF | WC_ORGHEAD}, {"party", WC_ORGSUF}, {"council", WC_ORGSUF | WC_ORGHEAD},
    {"agency", WC_ORGSUF | WC_ORGHEAD}, {"reuters", WC_ORGSUF}, {"association", WC_ORGSUF | WC_ORGHEAD},
    {"committee", WC_ORGSUF | WC_ORGHEAD}, {"commission", WC_ORGSUF | WC_ORGHEAD},
    {"authority", WC_ORGSUF | WC_ORGHEAD}, {"federation", WC_ORGSUF | WC_ORGHEAD},
    {"union", WC_ORGSUF}, {"foundation", WC_ORGSUF}, {"fund", WC_ORGSUF}, {"court", WC_ORGSUF},
    {"parliament", WC_ORGSUF}, {"assembly", WC_ORGSUF}, {"army", WC_ORGSUF}, {"navy", WC_ORGSUF},
    {"police", WC_ORGSUF}, {"office", WC_ORGSUF | WC_ORGHEAD}, {"bureau", WC_ORGSUF | WC_ORGHEAD},
    {"organization", WC_ORGSUF | WC_ORGHEAD}, {"organisation", WC_ORGSUF | WC_ORGHEAD},
    {"airlines", WC_ORGSUF}, {"airways", WC_ORGSUF}, {"motors", WC_ORGSUF}, {"systems", WC_ORGSUF},
    {"technologies", WC_ORGSUF}, {"energy", WC_ORGSUF}, {"news", WC_ORGSUF}, {"times", WC_ORGSUF},
    {"post", WC_ORGSUF}, {"press", WC_ORGSUF}, {"exchange", WC_ORGSUF}, {"club", WC_ORGSUF},
    {"fc", WC_ORGSUF}, {"school", WC_ORGSUF | WC_ORGHEAD}, {"hospital", WC_ORGSUF},
    {"museum", WC_ORGSUF | WC_ORGHEAD}, {"society", WC_ORGSUF}, {"alliance", WC_ORGSUF},
    {"front", WC_ORGSUF}, {"movement", WC_ORGSUF}, {"forces", WC_ORGSUF}, {"guard", WC_ORGSUF},
    {"government", WC_ORGSUF}, {"administration", WC_ORGSUF}, {"board", WC_ORGSUF},
    {"service", WC_ORGSUF}, {"services", WC_ORGSUF}, {"network", WC_ORGSUF},
    /* speech verbs */
    {"said", WC_SPEECH}, {"says", WC_SPEECH}, {"say", WC_SPEECH}, {"told", WC_SPEECH},
    {"added", WC_SPEECH}, {"stated", WC_SPEECH}, {"warned", WC_SPEECH}, {"noted", WC_SPEECH},
    {"explained", WC_SPEECH}, {"asked", WC_SPEECH}, {"wrote", WC_SPEECH}, {"declared", WC_SPEECH},
    {"insisted", WC_SPEECH}, {"argued", WC_SPEECH}, {"continued", WC_SPEECH},
    {"replied", WC_SPEECH}, {"recalled", WC_SPEECH}, {"tweeted", WC_SPEECH},
    {"announced", WC_SPEECH}, {"acknowledged", WC_SPEECH}, {"stressed", WC_SPEECH},
    /* dates */
    {"monday", WC_WEEKDAY}, {"tuesday", WC_WEEKDAY}, {"wednesday", WC_WEEKDAY},
    {"thursday", WC_WEEKDAY}, {"friday", WC_WEEKDAY}, {"saturday", WC_WEEKDAY},
    {"sunday", WC_WEEKDAY}, {"january", WC_MONTH}, {"february", WC_MONTH},
    {"march", WC_MONTH}, {"april", WC_MONTH},
    {"may", WC_MONTH | WC_MONTH_WEAK | WC_STOP}, {"june", WC_MONTH},
    {"july", WC_MONTH}, {"august", WC_MONTH}, {"september", WC_MONTH},
    {"october", WC_MONTH}, {"november", WC_MONTH}, {"december", WC_MONTH},
    {"jan", WC_MONTH | WC_MONTH_WEAK | WC_ABBR}, {"feb", WC_MONTH | WC_MONTH_WEAK | WC_ABBR},
    {"mar", WC_MONTH | WC_MONTH_WEAK | WC_ABBR}, {"apr", WC_MONTH | WC_MONTH_WEAK | WC_ABBR},
    {"jun", WC_MONTH | WC_MONTH_WEAK | WC_ABBR}, {"jul", WC_MONTH | WC_MONTH_WEAK | WC_ABBR},
    {"aug", WC_MONTH | WC_MONTH_WEAK | WC_ABBR}, {"sep", WC_MONTH | WC_MONTH_WEAK | WC_ABBR},
    {"sept", WC_MONTH | WC_MONTH_WEAK | WC_ABBR}, {"oct", WC_MONTH | WC_MONTH_WEAK | WC_ABBR},
    {"nov", WC_MONTH | WC_MONTH_WEAK | WC_ABBR}, {"dec", WC_MONTH | WC_MONTH_WEAK | WC_ABBR},
    /* amounts */
    {"thousand", WC_MAGN}, {"million", WC_MAGN}, {"billion", WC_MAGN}, {"trillion", WC_MAGN},
    {"mln", WC_MAGN}, {"bln", WC_MAGN}, {"bn", WC_MAGN}, {"mn", WC_MAGN}, {"tn", WC_MAGN},
    {"crore", WC_MAGN}, {"lakh", WC_MAGN}, {"percent", WC_PCT}, {"pct", WC_PCT},
    /* pronouns */
    {"he", WC_PRONOUN | WC_STOP | WC_FUNC}, {"she", WC_PRONOUN | WC_STOP | WC_FUNC},
    /* abbreviations that take a period */
    {"mr", WC_ABBR}, {"mrs", WC_ABBR}, {"ms", WC_ABBR}, {"dr", WC_ABBR}, {"st", WC_ABBR},
    {"sen", WC_ABBR}, {"rep", WC_ABBR}, {"gov", WC_ABBR}, {"gen", WC_ABBR}, {"lt", WC_ABBR},
    {"col", WC_ABBR}, {"sgt", WC_ABBR}, {"capt", WC_ABBR}, {"adm", WC_ABBR}, {"prof", WC_ABBR},
    {"jr", WC_ABBR}, {"sr", WC_ABBR}, {"rev", WC_ABBR}, {"no", WC_ABBR | WC_STOP | WC_FUNC},
    {"vs", WC_ABBR}, {"mt", WC_ABBR}, {"ft", WC_ABBR},
    /* stopwords (also: no name starts with them) */
    {"a", WC_STOP | WC_FUNC}, {"an", WC_STOP | WC_FUNC}, {"in", WC_STOP | WC_FUNC},
    {"on", WC_STOP | WC_FUNC}, {"at", WC_STOP | WC_FUNC}, {"to", WC_STOP | WC_FUNC},
    {"by", WC_STOP | WC_FUNC}, {"from", WC_STOP}, {"with", WC_STOP}, {"as", WC_STOP | WC_FUNC},
    {"is", WC_STOP | WC_FUNC}, {"are", WC_STOP}, {"was", WC_STOP}, {"were", WC_STOP},
    {"be", WC_STOP | WC_FUNC}, {"been", WC_STOP}, {"being", WC_STOP}, {"am", WC_STOP | WC_FUNC},
    {"it", WC_STOP | WC_FUNC}, {"its", WC_STOP}, {"they", WC_STOP}, {"them", WC_STOP},
    {"their", WC_STOP}, {"we", WC_STOP | WC_FUNC}, {"our", WC_STOP}, {"you", WC_STOP},
    {"your", WC_STOP}, {"i", WC_STOP | WC_FUNC}, {"me", WC_STOP | WC_FUNC}, {"my", WC_STOP | WC_FUNC},
    {"his", WC_STOP}, {"her", WC_STOP}, {"him", WC_STOP}, {"us", WC_STOP}, {"who", WC_STOP | WC_FUNC},
    {"whom", WC_STOP}, {"whose", WC_STOP}, {"which", WC_STOP}, {"what", WC_STOP}, {"when", WC_STOP},
    {"where", WC_STOP}, {"why", WC_STOP}, {"how", WC_STOP}, {"this", WC_STOP}, {"that", WC_STOP},
    {"these", WC_STOP}, {"those", WC_STOP}, {"there", WC_STOP}, {"here", WC_STOP}, {"but", WC_STOP},
    {"or", WC_STOP | WC_FUNC}, {"nor", WC_STOP}, {"not", WC_STOP}, {"if", WC_STOP | WC_FUNC},
    {"so", WC_STOP | WC_FUNC}, {"than", WC_STOP}, {"then", WC_STOP}, {"also", WC_STOP},
    {"after", WC_STOP}, {"before", WC_STOP}, {"while", WC_STOP}, {"during", WC_STOP},
    {"since", WC_STOP}, {"until", WC_STOP}, {"about", WC_STOP}, {"over", WC_STOP},
    {"under", WC_STOP}, {"into", WC_STOP}, {"onto", WC_STOP}, {"out", WC_STOP}, {"up", WC_STOP | WC_FUNC},
    {"down", WC_STOP}, {"off", WC_STOP}, {"all", WC_STOP}, {"any", WC_STOP}, {"some", WC_STOP},
    {"many", WC_STOP}, {"most", WC_STOP}, {"more", WC_STOP}, {"much", WC_STOP}, {"such", WC_STOP},
    {"each", WC_STOP}, {"every", WC_STOP}, {"other", WC_STOP}, {"another", WC_STOP},
    {"both", WC_STOP}, {"few", WC_STOP}, {"has", WC_STOP}, {"have", WC_STOP}, {"had", WC_STOP},
    {"do", WC_STOP | WC_FUNC}, {"does", WC_STOP}, {"did", WC_STOP}, {"will", WC_STOP},
    {"would", WC_STOP}, {"can", WC_STOP}, {"could", WC_STOP}, {"should", WC_STOP},
    {"might", WC_STOP}, {"must", WC_STOP}, {"shall", WC_STOP}, {"yes", WC_STOP}, {"however", WC_STOP},
    {"meanwhile", WC_STOP}, {"although", WC_STOP}, {"though", WC_STOP}, {"because", WC_STOP},
    {"still", WC_STOP}, {"yet", WC_STOP}, {"even", WC_STOP}, {"just", WC_STOP}, {"only", WC_STOP},
    {"very", WC_STOP}, {"now", WC_STOP}, {"today", WC_STOP}, {"yesterday", WC_STOP},
    {"tomorrow", WC_STOP}, {"last", WC_STOP}, {"next", WC_STOP}, {"earlier", WC_STOP},
    {"later", WC_STOP}, {"again", WC_STOP}, {"against", WC_STOP}, {"between", WC_STOP},
    {"among", WC_STOP}, {"through", WC_STOP}, {"without", WC_STOP}, {"within", WC_STOP},
    {"per", WC_STOP}, {"via", WC_STOP}, {"like", WC_STOP}, {"according", WC_STOP},
    {"one", WC_STOP}, {"two", WC_STOP}, {"three", WC_STOP}, {"new", 0}, {"mr", WC_ABBR},
    {"said", WC_STOP}, {"says", WC_STOP}, {"say", WC_STOP}, {"told", WC_STOP}, {"added", WC_STOP},
    {"year", WC_STOP}, {"years", WC_STOP}, {"week", WC_STOP}, {"weeks", WC_STOP},
    {"month", WC_STOP}, {"months", WC_STOP}, {"day", WC_STOP}, {"days", WC_STOP},
    {"time", WC_STOP}, {"first", WC_STOP}, {"second", WC_STOP}, {"people", WC_STOP},
    {"including", WC_STOP}, {"around", WC_STOP}, {"across", WC_STOP}, {"near", WC_STOP},
    {"where", WC_STOP}, {"whether", WC_STOP}, {"own", WC_STOP}, {"same", WC_STOP},
    {"well", WC_STOP}, {"back", WC_STOP}, {"too", WC_STOP}, {"already", WC_STOP},
    /* people named by their role: "Officials said" is nobody's name */
    {"officials", WC_STOP}, {"analysts", WC_STOP}, {"experts", WC_STOP}, {"police", WC_STOP},
    {"witnesses", WC_STOP}, {"residents", WC_STOP}, {"authorities", WC_STOP}, {"sources", WC_STOP},
    {"critics", WC_STOP}, {"investigators", WC_STOP}, {"economists", WC_STOP},
    {"researchers", WC_STOP}, {"scientists", WC_STOP}, {"doctors", WC_STOP}, {"lawyers", WC_STOP},
    {"prosecutors", WC_STOP}, {"diplomats", WC_STOP}, {"traders", WC_STOP}, {"investors", WC_STOP},
    {"protesters", WC_STOP}, {"soldiers", WC_STOP}, {"troops", WC_STOP}, {"rebels", WC_STOP},
    {"activists", WC_STOP}, {"observers", WC_STOP}, {"lawmakers", WC_STOP}, {"leaders", WC_STOP},
    {"organisers", WC_STOP}, {"organizers", WC_STOP}, {"spokesman", WC_STOP}, {"spokeswoman", WC_STOP},
    {"amid", WC_STOP}, {"despite", WC_STOP}, {"toward", WC_STOP}, {"towards", WC_STOP},
    {"upon", WC_STOP}, {"once", WC_STOP}, {"ago", WC_STOP}, {"let", WC_STOP},
};

/* ---- small open-addressing maps: u64 key -> u32 value ---------------------------- */

typedef struct {
    uint64_t *keys; /* 0 = empty */
    uint32_t *vals;
    size_t cap;     /* power of two */
    size_t alloc;   /* allocated slots */
} umap_t;

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static inline uint64_t nz(uint64_t k)
{
    return k ? k : 1;
}

/* Empties the map and sizes it for at least n entries (load <= 1/2). */
static void umap_reset(umap_t *m, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2 + 2)
        cap *= 2;
    if (cap > m->alloc) {
        ww_free(m->keys);
        ww_free(m->vals);
        m->keys = ww_malloc(cap * sizeof *m->keys);
        m->vals = ww_malloc(cap * sizeof *m->vals);
        m->alloc = cap;
    }
    m->cap = cap;
    memset(m->keys, 0, cap * sizeof *m->keys);
}

static void umap_free(umap_t *m)
{
    ww_free(m->keys);
    ww_free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Slot of key: either holding it or the empty slot where it would go. */
static inline size_t umap_slot(const umap_t *m, uint64_t key)
{
    key = nz(key);
    size_t mask = m->cap - 1;
    size_t i = (size_t)mix64(key) & mask;
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

static inline bool umap_get(const umap_t *m, uint64_t key, uint32_t *val)
{
    if (!m->cap)
        return false;
    size_t i = umap_slot(m, key);
    if (!m->keys[i])
        return false;
    if (val)
        *val = m->vals[i];
    return true;
}

/* Returns a pointer to key's value, inserting `init` when absent. The caller
 * sized the map (umap_reset) for all keys it will insert. */
static inline uint32_t *umap_put(umap_t *m, uint64_t key, uint32_t init)
{
    size_t i = umap_slot(m, key);
    if (!m->keys[i]) {
        m->keys[i] = nz(key);
        m->vals[i] = init;
    }
    return &m->vals[i];
}

/* ---- the extractor and its scratch ------------------------------------------------ */

struct ww_extractor {
    ww_gazetteer_t *gaz; /* owned */
    umap_t wc;           /* token hash -> WC_* bits */
    ww_ner_model_t *ner; /* trained labeller for PER/ORG/LOC/MISC (owned), NULL: rules */
    ww_df_t *df;         /* built-in document frequencies (owned), NULL: none */
};

/* gap classes: what lies between token i-1 and token i */
enum { GAP_OTHER = 0, GAP_SPACE, GAP_HYPHEN, GAP_APOS, GAP_DOT };

/* per-token flags */
#define TF_SENT 0x01u  /* first word of a sentence (or of a quotation) */
#define TF_CAP 0x02u   /* capitalised and case is informative */
#define TF_USED 0x04u  /* part of a DATE/MONEY/PERCENT or name already */
#define TF_QOPEN 0x08u /* an opening quote lies just before it */

typedef struct {
    uint32_t wc;   /* WC_* bits of the word */
    uint8_t gap;   /* GAP_* before the word */
    uint8_t flags; /* TF_* */
} tinfo_t;

/* internal mention types beyond ww_ent_type_t */
#define T_UNK 100  /* single capitalised word, no evidence yet */
#define T_UNKM 101 /* 2-3 capitalised words, no evidence yet */
#define T_DROP 102 /* resolved away */

typedef struct {
    uint8_t field;         /* WW_FIELD_* */
    uint8_t type;          /* ww_ent_type_t or T_* */
    uint8_t sent;          /* starts a sentence */
    uint32_t ta, tb;       /* token range [ta, tb) in the field */
    uint32_t start, end;   /* byte range in the field */
    const char *gaz_canon; /* canonical spelling from the gazetteer, or NULL */
    uint32_t canon_off;    /* offset of the canonical string in scratch sbuf */
    uint64_t canon_hash;   /* hash of (type, canonical) */
    uint64_t body_key;     /* headline copy of a body name: its word-sequence key, else 0 */
    uint32_t count;        /* mentions of the same (type, canonical) */
} mention_t;

typedef struct {
    uint64_t key;     /* term key (keywords.h) */
    uint32_t count;   /* occurrences */
    uint32_t ref;     /* field << 31 | token index of the first word of the first occurrence */
    uint8_t nw;       /* words: 1, or 2-3 for phrases */
    const char *term; /* term text (into fold buffers or scratch kwbuf), set when eligible */
    double score;     /* TF-IDF */
} kw_t;

struct ww_extract_scratch {
    ww_tokens_t tk[2];          /* tokens of title, body */
    tinfo_t *ti[2];             /* per-token info */
    size_t ti_cap[2];
    const char *txt[2];         /* field text (borrowed from the event) */
    size_t len[2];              /* field length */
    bool informative[2];        /* case says something in this field */
    mention_t *m;               /* mentions of the document */
    size_t nm, cap_m;
    char *sbuf;                 /* canonical strings */
    size_t slen, scap;
    char *tmp;                  /* NUL-terminated copies handed to the event */
    size_t tmp_cap;
    umap_t lower;               /* words seen written in lower case */
    umap_t map;                 /* general purpose */
    umap_t map2;
    kw_t *kw;                   /* keyword candidates */
    size_t nkw, cap_kw;
    char *kwbuf;                /* phrase strings */
    size_t kwlen, kwcap;
    ww_term_t *terms;           /* distinct document-frequency terms of the last event */
    size_t nterms, cap_terms;
    const ww_df_t *live;        /* live document frequencies (borrowed), NULL: none */
    /* trained labeller: title + "\n\n" + body as one document */
    ww_ner_scratch_t *ner;      /* labeller scratch (created on first use) */
    char *ndoc;                 /* the joined text */
    size_t ndoc_cap;
    ww_ner_tok_t *ntok;         /* its tokens */
    size_t ntok_cap;
    uint8_t *nlab;              /* their labels */
    size_t nlab_cap;
    ww_ner_ent_t *nent;         /* the names found */
    size_t nent_cap;
};

/* ---- construction ---------------------------------------------------------------- */

#define NER_BUNDLED "ner/ner-en.model"

/* Loads the NER model: model_path, else the bundled one when it exists.
 * Returns 0 (with *out NULL when there is no bundled model) or -1. */
static int load_ner(const char *model_path, ww_ner_model_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (model_path && !*model_path)
        return 0; /* "": no model asked for */
    char *path = model_path ? ww_strdup(model_path) : ww_data_path(NER_BUNDLED);
    if (!path) {
        ww_warn("extract", "msg=\"%s not found: names come from the rule-based extractor\"", NER_BUNDLED);
        return 0;
    }
    char e[512];
    *out = ww_ner_load(path, e, sizeof e);
    ww_free(path);
    if (!*out) {
        if (err && errlen)
            snprintf(err, errlen, "%s", e);
        return -1;
    }
    return 0;
}

#define DF_BUNDLED "keywords/idf.tsv"

/* The bundled document frequencies, or NULL (keywords then score by plain TF). */
static ww_df_t *load_df(void)
{
    char *path = ww_data_path(DF_BUNDLED);
    if (!path)
        return NULL;
    char e[512];
    ww_df_t *df = ww_df_load(path, e, sizeof e);
    if (!df)
        ww_warn("extract", "msg=\"keywords score by term frequency only\" error=\"%s\"", e);
    ww_free(path);
    return df;
}

void ww_extractor_set_df(ww_extractor_t *x, ww_df_t *df)
{
    ww_df_destroy(&x->df);
    x->df = df;
}

void ww_extract_scratch_set_live_df(ww_extract_scratch_t *s, const ww_df_t *live)
{
    s->live = live;
}

size_t ww_extract_doc_terms(const ww_extract_scratch_t *s, const ww_term_t **terms)
{
    *terms = s->terms;
    return s->nterms;
}

ww_extractor_t *ww_extractor_new(const char *gazetteer_path, const char *model_path, char *err,
                                 size_t errlen)
{
    ww_ner_model_t *ner;
    if (load_ner(model_path, &ner, err, errlen) < 0)
        return NULL;
    char *path = NULL;
    if (gazetteer_path) {
        path = ww_strdup(gazetteer_path);
    } else {
        path = ww_data_path("gazetteer.tsv");
        if (!path) {
            path = ww_data_path("gazetteer-extra.tsv");
            if (path)
                ww_warn("extract", "msg=\"gazetteer.tsv not found, using %s (no iso-codes names)\"",
                        path);
        }
        if (!path) {
            if (err && errlen)
                snprintf(err, errlen, "no gazetteer: neither gazetteer.tsv nor gazetteer-extra.tsv found");
            ww_ner_free(&ner);
            return NULL;
        }
    }
    ww_gazetteer_t *g = ww_gazetteer_load(path, err, errlen);
    ww_free(path);
    if (!g) {
        ww_ner_free(&ner);
        return NULL;
    }
    ww_extractor_t *x = ww_calloc(1, sizeof *x);
    x->gaz = g;
    x->ner = ner;
    x->df = load_df();
    size_t n = sizeof word_classes / sizeof word_classes[0];
    umap_reset(&x->wc, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = ww_hash_bytes(word_classes[i].w, strlen(word_classes[i].w));
        *umap_put(&x->wc, h, 0) |= word_classes[i].c;
    }
    return x;
}

void ww_extractor_destroy(ww_extractor_t **xp)
{
    if (!xp || !*xp)
        return;
    ww_gazetteer_destroy(&(*xp)->gaz);
    ww_ner_free(&(*xp)->ner);
    ww_df_destroy(&(*xp)->df);
    umap_free(&(*xp)->wc);
    ww_free(*xp);
    *xp = NULL;
}

ww_extract_scratch_t *ww_extract_scratch_new(void)
{
    ww_extract_scratch_t *s = ww_calloc(1, sizeof *s);
    ww_tokens_init(&s->tk[0]);
    ww_tokens_init(&s->tk[1]);
    return s;
}

void ww_extract_scratch_destroy(ww_extract_scratch_t **sp)
{
    if (!sp || !*sp)
        return;
    ww_extract_scratch_t *s = *sp;
    for (int f = 0; f < 2; f++) {
        ww_tokens_deinit(&s->tk[f]);
        ww_free(s->ti[f]);
    }
    ww_free(s->m);
    ww_free(s->sbuf);
    ww_free(s->tmp);
    umap_free(&s->lower);
    umap_free(&s->map);
    umap_free(&s->map2);
    ww_free(s->kw);
    ww_free(s->kwbuf);
    ww_free(s->terms);
    ww_ner_scratch_destroy(&s->ner);
    ww_free(s->ndoc);
    ww_free(s->ntok);
    ww_free(s->nlab);
    ww_free(s->nent);
    ww_free(s);
    *sp = NULL;
}

/* ---- token annotation -------------------------------------------------------------- */

static inline bool is_space_byte(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Classifies the bytes s[a..b) between two words; sets *brk when they end a
 * sentence and *qopen when they open a quotation. */
static uint8_t classify_gap(const char *s, size_t a, size_t b, bool *brk, bool *qopen)
{
    *brk = false;
    *qopen = false;
    size_t n = b - a;
    const unsigned char *p = (const unsigned char *)s + a;
    bool all_space = n > 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '.' || c == '!' || c == '?' || c == ':' || c == '\n' || c == '\r' || c == ';')
            *brk = true;
        if (c == '"' || c == '(')
            *qopen = true;
        if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x80) {
            if (p[i + 2] == 0x9C || p[i + 2] == 0x98) /* “ ‘ */
                *qopen = true;
            if (p[i + 2] == 0xA6) /* … */
                *brk = true;
        }
        if (c == 0xC2 && i + 1 < n && p[i + 1] == 0xAB) /* « */
            *qopen = true;
        if (!is_space_byte(c) && !(c == 0xC2 && i + 1 < n && p[i + 1] == 0xA0) &&
            !(c == 0xA0 && i > 0 && p[i - 1] == 0xC2))
            all_space = false;
    }
    if (all_space)
        return GAP_SPACE;
    if (n == 1 && p[0] == '-')
        return GAP_HYPHEN;
    if (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0x90 || p[2] == 0x91))
        return GAP_HYPHEN;
    if (n == 1 && p[0] == '\'')
        return GAP_APOS;
    if (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0x99)
        return GAP_APOS;
    if (n >= 1 && p[0] == '.') {
        size_t i = 1;
        while (i < n && p[i] == ' ')
            i++;
        if (i == n && n <= 2)
            return GAP_DOT;
    }
    return GAP_OTHER;
}

static inline size_t tok_len(const ww_token_t *t)
{
    return t->end - t->start;
}

/* Tokenizes field f and fills the per-token info. */
static void annotate(const ww_extractor_t *x, ww_extract_scratch_t *s, int f)
{
    ww_tokens_t *tk = &s->tk[f];
    ww_tokenize(s->txt[f], s->len[f], tk);
    WW_GROW(s->ti[f], s->ti_cap[f], tk->n + 1);
    tinfo_t *ti = s->ti[f];
    size_t letters = 0, upper = 0, lower_long = 0;
    for (size_t i = 0; i < tk->n; i++) {
        const ww_token_t *t = &tk->toks[i];
        uint32_t wc = 0;
        umap_get(&x->wc, t->hash, &wc);
        bool brk, qopen;
        size_t a = i ? tk->toks[i - 1].end : 0;
        uint8_t gap = classify_gap(s->txt[f], a, t->start, &brk, &qopen);
        if (i == 0)
            gap = GAP_OTHER;
        uint8_t fl = 0;
        if (gap == GAP_DOT && i > 0) {
            const ww_token_t *p = &tk->toks[i - 1];
            if (tok_len(p) == 1 || (ti[i - 1].wc & WC_ABBR))
                brk = false;
            else
                gap = GAP_OTHER;
        }
        if (i == 0 || brk)
            fl |= TF_SENT;
        if (qopen)
            fl |= TF_SENT | TF_QOPEN;
        if ((t->flags & WW_TOK_UPPER_INITIAL) && !(t->flags & WW_TOK_ALL_DIGIT))
            fl |= TF_CAP;
        if (!(t->flags & WW_TOK_HAS_DIGIT)) {
            letters++;
            if (t->flags & WW_TOK_ALL_UPPER)
                upper++;
            else if (!(t->flags & WW_TOK_UPPER_INITIAL) && tok_len(t) >= 3)
                lower_long++;
        }
        ti[i].wc = wc;
        ti[i].gap = gap;
        ti[i].flags = fl;
    }
    /* ALL CAPS, or (in a headline) Title Case: capitals say nothing */
    bool caps = letters >= 2 && upper * 10 >= letters * 7;
    bool titlecase = f == WW_FIELD_TITLE && letters >= 3 && lower_long == 0;
    s->informative[f] = !(caps || titlecase);
    if (!s->informative[f])
        for (size_t i = 0; i < tk->n; i++)
            ti[i].flags &= (uint8_t)~TF_CAP;
}

/* ---- mentions ------------------------------------------------------------------- */

static mention_t *add_mention(ww_extract_scratch_t *s, int f, size_t ta, size_t tb, uint32_t start,
                              uint32_t end, int type, const char *gaz_canon)
{
    WW_GROW(s->m, s->cap_m, s->nm + 1);
    mention_t *m = &s->m[s->nm++];
    memset(m, 0, sizeof *m);
    m->field = (uint8_t)f;
    m->type = (uint8_t)type;
    m->ta = (uint32_t)ta;
    m->tb = (uint32_t)tb;
    m->start = start;
    m->end = end;
    m->gaz_canon = gaz_canon;
    m->sent = (s->ti[f][ta].flags & TF_SENT) != 0;
    for (size_t i = ta; i < tb; i++)
        s->ti[f][i].flags |= TF_USED;
    return m;
}

static mention_t *add_tok_mention(ww_extract_scratch_t *s, int f, size_t ta, size_t tb, int type,
                                  const char *gaz_canon)
{
    const ww_token_t *t = s->tk[f].toks;
    uint32_t end = t[tb - 1].end;
    /* "U.S." keeps the period of its last initial */
    if (tb - ta >= 2 && tok_len(&t[tb - 1]) == 1 && s->ti[f][tb - 1].gap == GAP_DOT &&
        end < s->len[f] && s->txt[f][end] == '.')
        end++;
    return add_mention(s, f, ta, tb, t[ta].start, end, type, gaz_canon);
}

/* ---- numbers: DATE, MONEY, PERCENT ------------------------------------------------- */

static inline bool tok_is_ascii_digits(const char *txt, const ww_token_t *t)
{
    for (uint32_t i = t->start; i < t->end; i++)
        if (txt[i] < '0' || txt[i] > '9')
            return false;
    return true;
}

/* Value of an all-digit token of at most 4 digits, else -1. */
static long small_int(const char *txt, const ww_token_t *t)
{
    if (tok_len(t) > 4 || !tok_is_ascii_digits(txt, t))
        return -1;
    long v = 0;
    for (uint32_t i = t->start; i < t->end; i++)
        v = v * 10 + (txt[i] - '0');
    return v;
}

/* Day of month: "5", "05", "5th", "21st". Returns 1..31 or -1. */
static long day_number(const char *txt, const ww_token_t *t)
{
    uint32_t i = t->start, d = 0;
    long v = 0;
    while (i < t->end && txt[i] >= '0' && txt[i] <= '9' && d < 3) {
        v = v * 10 + (txt[i] - '0');
        i++;
        d++;
    }
    if (d == 0 || d > 2)
        return -1;
    size_t rest = t->end - i;
    if (rest) {
        if (rest != 2)
            return -1;
        char a = (char)(txt[i] | 0x20), b = (char)(txt[i + 1] | 0x20);
        if (!((a == 's' && b == 't') || (a == 'n' && b == 'd') || (a == 'r' && b == 'd') ||
              (a == 't' && b == 'h')))
            return -1;
    }
    return v >= 1 && v <= 31 ? v : -1;
}

static bool is_year(const char *txt, const ww_token_t *t)
{
    long v = tok_len(t) == 4 ? small_int(txt, t) : -1;
    return v >= 1000 && v <= 2999;
}

/* True when the gap before token j is a single space, or ", " / "," when comma_ok. */
static bool gap_is(const char *txt, const ww_tokens_t *tk, size_t j, bool comma_ok)
{
    uint32_t a = tk->toks[j - 1].end, b = tk->toks[j].start;
    if (b - a == 1 && txt[a] == ' ')
        return true;
    if (comma_ok && txt[a] == ',' && (b - a == 1 || (b - a == 2 && txt[a + 1] == ' ')))
        return true;
    return false;
}

/* Tries a date at token i; returns the number of tokens used (0: none). */
static size_t try_date(ww_extract_scratch_t *s, int f, size_t i)
{
    const ww_tokens_t *tk = &s->tk[f];
    const tinfo_t *ti = s->ti[f];
    const char *txt = s->txt[f];
    const ww_token_t *t = tk->toks;
    size_t n = tk->n;
    bool cap = (t[i].flags & WW_TOK_UPPER_INITIAL) != 0;
    if ((ti[i].wc & WC_WEEKDAY) && cap)
        return 1;
    if ((ti[i].wc & WC_MONTH) && cap) {
        size_t j = i;
        bool abbr_dot = false;
        if (i + 1 < n && (ti[i].wc & WC_ABBR) && txt[t[i].end] == '.')
            abbr_dot = true;
        if (i + 1 < n && (gap_is(txt, tk, i + 1, false) || (abbr_dot && ti[i + 1].gap == GAP_DOT)) &&
            !(ti[i + 1].flags & TF_USED)) {
            if (day_number(txt, &t[i + 1]) > 0) {
                j = i + 1;
                if (j + 1 < n && gap_is(txt, tk, j + 1, true) && is_year(txt, &t[j + 1]))
                    j++;
            } else if (is_year(txt, &t[i + 1])) {
                j = i + 1;
            }
        }
        /* "May" and "Jan" need a number; so does "March" starting a sentence */
        if (j == i && ((ti[i].wc & WC_MONTH_WEAK) ||
                       ((ti[i].flags & TF_SENT) && strcmp(ww_token_fold(tk, i), "march") == 0)))
            return 0;
        return j - i + 1;
    }
    if (t[i].flags & WW_TOK_HAS_DIGIT) {
        /* 5 March 2024 */
        if (day_number(txt, &t[i]) > 0 && i + 1 < n && gap_is(txt, tk, i + 1, false) &&
            (ti[i + 1].wc & WC_MONTH) && (t[i + 1].flags & WW_TOK_UPPER_INITIAL)) {
            size_t j = i + 1;
            if (j + 1 < n && gap_is(txt, tk, j + 1, true) && is_year(txt, &t[j + 1]))
                j++;
            return j - i + 1;
        }
        /* 2024-03-05 */
        if (is_year(txt, &t[i]) && i + 2 < n && ti[i + 1].gap == GAP_HYPHEN &&
            ti[i + 2].gap == GAP_HYPHEN && tok_len(&t[i + 1]) == 2 && tok_len(&t[i + 2]) == 2) {
            long mo = small_int(txt, &t[i + 1]), d = small_int(txt, &t[i + 2]);
            if (mo >= 1 && mo <= 12 && d >= 1 && d <= 31)
                return 3;
        }
    }
    return 0;
}

/* Last token of a number starting at token i ("1,250.5" is three tokens), or
 * -1 when token i does not start a number. *suffix gets the fold of letters
 * glued to the last digits ("bn" in "3.2bn"), empty when none. */
static long number_end(ww_extract_scratch_t *s, int f, size_t i, const char **suffix, size_t *suflen)
{
    const ww_tokens_t *tk = &s->tk[f];
    const char *txt = s->txt[f];
    const ww_token_t *t = tk->toks;
    if (txt[t[i].start] < '0' || txt[t[i].start] > '9')
        return -1;
    size_t k = i;
    while (k + 1 < tk->n && (t[k].flags & WW_TOK_ALL_DIGIT) && t[k + 1].start - t[k].end == 1 &&
           (txt[t[k].end] == '.' || txt[t[k].end] == ',') && txt[t[k + 1].start] >= '0' &&
           txt[t[k + 1].start] <= '9')
        k++;
    /* glued letters on the last token */
    const ww_token_t *last = &t[k];
    uint32_t p = last->start;
    while (p < last->end && txt[p] >= '0' && txt[p] <= '9')
        p++;
    *suffix = ww_token_fold(tk, k) + (p - last->start);
    *suflen = last->end - p;
    if (*suflen) {
        for (uint32_t q = last->start; q < p; q++)
            if ((unsigned char)txt[q] >= 0x80)
                return -1;
        static const char *const ok[] = {"bn", "m", "mn", "b", "k", "tn", "trn", "mln", "bln", NULL};
        bool good = false;
        for (size_t z = 0; ok[z]; z++)
            if (strlen(ok[z]) == *suflen && memcmp(ok[z], *suffix, *suflen) == 0)
                good = true;
        if (!good)
            return -1;
    }
    return (long)k;
}

/* Currency symbols accepted right before an amount. */
static size_t currency_symbol_before(const char *txt, size_t pos, size_t lo)
{
    static const char *const syms[] = {"$", "€", "£", "¥", "₹", "₽", "₩", "₺", "₪", "₦", "₿", NULL};
    for (size_t z = 0; syms[z]; z++) {
        size_t l = strlen(syms[z]);
        if (pos >= lo + l && memcmp(txt + pos - l, syms[z], l) == 0)
            return l;
    }
    return 0;
}

/* Tries MONEY or PERCENT at token i (a number); returns tokens consumed after
 * i (>= 1) or 0. */
static size_t try_amount(const ww_extractor_t *x, ww_extract_scratch_t *s, int f, size_t i)
{
    const ww_tokens_t *tk = &s->tk[f];
    const tinfo_t *ti = s->ti[f];
    const char *txt = s->txt[f];
    const ww_token_t *t = tk->toks;
    size_t n = tk->n;
    const char *suf;
    size_t suflen;
    long kl = number_end(s, f, i, &suf, &suflen);
    if (kl < 0)
        return 0;
    size_t k = (size_t)kl;
    /* PERCENT: 3.5%, 3.5 %, 3.5 percent, 3.5 per cent */
    if (!suflen) {
        uint32_t e = t[k].end;
        if (e < s->len[f] && txt[e] == ' ')
            e++;
        if (e < s->len[f] && txt[e] == '%') {
            add_mention(s, f, i, k + 1, t[i].start, e + 1, WW_ENT_PERCENT, NULL);
            return k - i + 1;
        }
        if (e + 3 <= s->len[f] && memcmp(txt + e, "\xEF\xBC\x85", 3) == 0) {
            add_mention(s, f, i, k + 1, t[i].start, e + 3, WW_ENT_PERCENT, NULL);
            return k - i + 1;
        }
        if (k + 1 < n && gap_is(txt, tk, k + 1, false)) {
            if (ti[k + 1].wc & WC_PCT) {
                add_tok_mention(s, f, i, k + 2, WW_ENT_PERCENT, NULL);
                return k - i + 2;
            }
            if (k + 2 < n && strcmp(ww_token_fold(tk, k + 1), "per") == 0 &&
                strcmp(ww_token_fold(tk, k + 2), "cent") == 0 && gap_is(txt, tk, k + 2, false)) {
                add_tok_mention(s, f, i, k + 3, WW_ENT_PERCENT, NULL);
                return k - i + 3;
            }
        }
    }
    /* MONEY: a symbol or code before, or a currency word after */
    bool cur = false;
    size_t first = i;
    uint32_t start = t[i].start;
    size_t lo = i ? t[i - 1].end : 0;
    size_t pos = t[i].start;
    if (pos > lo && txt[pos - 1] == ' ')
        pos--;
    size_t sl = currency_symbol_before(txt, pos, lo);
    if (sl) {
        cur = true;
        start = (uint32_t)(pos - sl);
        /* US$ 5, HK$5 */
        if (txt[pos - 1] == '$' && i > 0 && t[i - 1].end == start && tok_len(&t[i - 1]) <= 2 &&
            (t[i - 1].flags & WW_TOK_ALL_UPPER) && !(ti[i - 1].flags & TF_USED)) {
            first = i - 1;
            start = t[i - 1].start;
        }
    } else if (i > 0 && gap_is(txt, tk, i, false) && !(ti[i - 1].flags & TF_USED)) {
        ww_gaz_match_t gm;
        if (ww_gazetteer_match(x->gaz, tk, i - 1, 1, &gm) == 1 && (gm.mask & WW_GAZ_CUR) &&
            (t[i - 1].flags & WW_TOK_ALL_UPPER) && (gm.mask & WW_GAZ_ACRONYM)) {
            cur = true;
            first = i - 1;
            start = t[i - 1].start;
        }
    }
    size_t last = k;
    if (!suflen && last + 1 < n && gap_is(txt, tk, last + 1, false) && (ti[last + 1].wc & WC_MAGN))
        last++;
    if (last + 1 < n && gap_is(txt, tk, last + 1, false)) {
        ww_gaz_match_t gm;
        if (ww_gazetteer_match(x->gaz, tk, last + 1, 3, &gm) && (gm.mask & WW_GAZ_CUR) &&
            (!(gm.mask & WW_GAZ_ACRONYM) || (t[last + 1].flags & WW_TOK_ALL_UPPER))) {
            bool joined = true;
            for (size_t z = last + 2; z < last + 1 + gm.ntok; z++)
                if (ti[z].gap == GAP_OTHER)
                    joined = false;
            if (joined) {
                cur = true;
                last += gm.ntok;
            }
        }
    }
    if (!cur)
        return 0;
    add_mention(s, f, first, last + 1, start, t[last].end, WW_ENT_MONEY, NULL);
    return last - i + 1;
}

static void find_numbers(const ww_extractor_t *x, ww_extract_scratch_t *s, int f)
{
    const ww_tokens_t *tk = &s->tk[f];
    tinfo_t *ti = s->ti[f];
    for (size_t i = 0; i < tk->n;) {
        if (ti[i].flags & TF_USED) {
            i++;
            continue;
        }
        size_t used = 0;
        if ((ti[i].wc & (WC_WEEKDAY | WC_MONTH)) || (tk->toks[i].flags & WW_TOK_HAS_DIGIT)) {
            used = try_date(s, f, i);
            if (used)
                add_tok_mention(s, f, i, i + used, WW_ENT_DATE, NULL);
        }
        if (!used && (tk->toks[i].flags & WW_TOK_HAS_DIGIT))
            used = try_amount(x, s, f, i);
        i += used ? used : 1;
    }
}

/* ---- names -------------------------------------------------------------------------- */

/* Entity type of gazetteer bits, -1 when none. */
static int gaz_type(uint32_t mask)
{
    if (mask & WW_GAZ_ORG)
        return WW_ENT_ORG;
    if (mask & WW_GAZ_LOC)
        return WW_ENT_LOC;
    if (mask & WW_GAZ_PER)
        return WW_ENT_PER;
    if (mask & (WW_GAZ_MISC | WW_GAZ_DEMONYM))
        return WW_ENT_MISC;
    return -1;
}

/* True when token j may continue a name after token j-1 (by the gap alone). */
static inline bool joinable(const tinfo_t *ti, size_t j)
{
    return ti[j].gap != GAP_OTHER;
}

/* Longest gazetteer match at p within [p, b) whose words are joined by
 * name-like gaps, whose first and last words are capitalised (when case is
 * informative) and whose acronyms are written in capitals. */
static size_t gaz_at(const ww_extractor_t *x, ww_extract_scratch_t *s, int f, size_t p, size_t b,
                     ww_gaz_match_t *m)
{
    const tinfo_t *ti = s->ti[f];
    const ww_token_t *t = s->tk[f].toks;
    size_t lim = 1;
    while (p + lim < b && lim < WW_GAZ_MAX_TOKENS && joinable(ti, p + lim) &&
           !(ti[p + lim].flags & TF_USED))
        lim++;
    while (lim > 0) {
        if (!ww_gazetteer_match(x->gaz, &s->tk[f], p, lim, m))
            return 0;
        size_t e = p + m->ntok - 1;
        bool ok = true;
        if (s->informative[f]) {
            if (!(ti[p].flags & TF_CAP) || !(ti[e].flags & TF_CAP))
                ok = false;
            if ((m->mask & WW_GAZ_ACRONYM) && !(t[p].flags & WW_TOK_ALL_UPPER))
                ok = false;
        } else if (m->ntok == 1 && (ti[p].wc & WC_FUNC)) {
            ok = false;
        }
        if (ok)
            return m->ntok;
        lim = m->ntok - 1;
    }
    m->ntok = 0;
    return 0;
}

/* True when a title word (any case) ends right before token a. */
static bool title_before(const ww_extractor_t *x, ww_extract_scratch_t *s, int f, size_t a)
{
    const tinfo_t *ti = s->ti[f];
    if (a == 0 || !joinable(ti, a))
        return false;
    for (size_t k = 2; k >= 1; k--) {
        if (a < k)
            continue;
        ww_gaz_match_t m;
        bool ok = true;
        for (size_t z = a - k + 1; z < a; z++)
            if (!joinable(ti, z))
                ok = false;
        if (ok && ww_gazetteer_match(x->gaz, &s->tk[f], a - k, k, &m) == k && (m.mask & WW_GAZ_TITLE))
            return true;
    }
    return false;
}

static bool speech_after(ww_extract_scratch_t *s, int f, size_t b)
{
    return b < s->tk[f].n && (s->ti[f][b].wc & WC_SPEECH) && s->ti[f][b].gap == GAP_SPACE;
}

static void segment(const ww_extractor_t *x, ww_extract_scratch_t *s, int f, size_t a, size_t b);
static void add_person(const ww_extractor_t *x, ww_extract_scratch_t *s, int f, size_t p, size_t b);

/* Types a span that had no title/demonym/gazetteer evidence for its whole. */
static void type_rest(const ww_extractor_t *x, ww_extract_scratch_t *s, int f, size_t p, size_t b)
{
    const tinfo_t *ti = s->ti[f];
    const ww_token_t *t = s->tk[f].toks;
    size_t n = b - p;
    ww_gaz_match_t m;
    gaz_at(x, s, f, p, b, &m);
    /* China-US: parts joined by hyphens that are each a known place */
    bool hy = false;
    for (size_t z = p + 1; z < b; z++)
        hy |= ti[z].gap == GAP_HYPHEN;
    if (hy) {
        bool all = true;
        size_t q = p;
        while (q < b && all) {
            size_t e = q + 1;
            while (e < b && ti[e].gap != GAP_HYPHEN)
                e++;
            ww_gaz_match_t pm;
            if (gaz_at(x, s, f, q, e, &pm) != e - q || gaz_type(pm.mask) < 0)
                all = false;
            q = e;
        }
        if (all) {
            q = p;
            while (q < b) {
                size_t e = q + 1;
                while (e < b && ti[e].gap != GAP_HYPHEN)
                    e++;
                ww_gaz_match_t pm;
                gaz_at(x, s, f, q, e, &pm);
                add_tok_mention(s, f, q, e, gaz_type(pm.mask), pm.canonical);
                q = e;
            }
            return;
        }
    }
    ww_gaz_match_t lt;
    if (n <= 3 && gaz_at(x, s, f, b - 1, b, &lt) && (lt.mask & WW_GAZ_TITLE))
        return; /* "Commerce Minister": a title names nobody */
    bool orgish = ((ti[b - 1].wc & WC_ORGSUF) || (ti[p].wc & WC_ORGHEAD)) && n >= 2;
    if (!orgish) {
        /* "Joe Manchin of West Virginia": the parts around "of" are typed on their own */
        for (size_t c = p + 1; c < b; c++) {
            if ((ti[c].wc & WC_CONN) && (ti[c].wc & WC_STOP)) {
                type_rest(x, s, f, p, c);
                while (c < b && (ti[c].wc & WC_CONN))
                    c++;
                if (c < b)
                    segment(x, s, f, c, b);
                return;
            }
        }
    }
    int type;
    if (orgish)
        type = WW_ENT_ORG;
    else if (m.ntok && (m.mask & WW_GAZ_FIRST) && n >= 2 && n <= 4)
        type = WW_ENT_PER;
    else if (m.ntok && (m.mask & (WW_GAZ_LOC | WW_GAZ_ORG)) && n > m.ntok)
        type = WW_ENT_ORG;
    else if (n == 1 && (t[p].flags & WW_TOK_ALL_UPPER) && tok_len(&t[p]) >= 2 && tok_len(&t[p]) <= 6)
        type = WW_ENT_ORG;
    else if (n <= 3 && (speech_after(s, f, b) || title_before(x, s, f, p)) &&
             !(n == 1 && (ti[p].flags & TF_SENT)))
        type = WW_ENT_PER;
    else if (n == 1)
        type = T_UNK;
    else if (n <= 3)
        type = T_UNKM;
    else
        type = WW_ENT_MISC;
    add_tok_mention(s, f, p, b, type, NULL);
}

/* Emits a person [p, b), cut before a joining function word ("Li Qiang of
 * China": the words after "of" are segmented on their own). */
static void add_person(const ww_extractor_t *x, ww_extract_scratch_t *s, int f, size_t p, size_t b)
{
    const tinfo_t *ti = s->ti[f];
    size_t c = p + 1;
    while (c < b && !((ti[c].wc & WC_CONN) && (ti[c].wc & WC_STOP)))
        c++;
    add_tok_mention(s, f, p, c, WW_ENT_PER, NULL);
    while (c < b && (ti[c].wc & WC_CONN))
        c++;
    if (c < b)
        segment(x, s, f, c, b);
}

/* Splits the capitalised span [a, b) into mentions: leading demonyms and
 * places before a title, title words (dropped), the name after a title (PER),
 * and types the rest. */
static void segment(const ww_extractor_t *x, ww_extract_scratch_t *s, int f, size_t a, size_t b)
{
    size_t p = a;
    bool title = title_before(x, s, f, a);
    ww_gaz_match_t m;
    while (p < b) {
        if (!gaz_at(x, s, f, p, b, &m))
            break;
        size_t q = p + m.ntok;
        if (q == b && gaz_type(m.mask) >= 0 && !title) {
            add_tok_mention(s, f, p, b, gaz_type(m.mask), m.canonical);
            return;
        }
        if (m.mask & WW_GAZ_TITLE) {
            if (q == b)
                return; /* a title alone names nobody */
            title = true;
            p = q;
            continue;
        }
        if (q == b || title)
            break;
        ww_gaz_match_t m2;
        bool title_next = gaz_at(x, s, f, q, b, &m2) && (m2.mask & WW_GAZ_TITLE) && q + m2.ntok < b;
        if (gaz_type(m.mask) >= 0 && title_next) {
            add_tok_mention(s, f, p, q, gaz_type(m.mask), m.canonical);
            p = q;
            continue;
        }
        if ((m.mask & WW_GAZ_DEMONYM) && !(m.mask & WW_GAZ_FIRST)) {
            add_tok_mention(s, f, p, q, WW_ENT_MISC, m.canonical);
            p = q;
            continue;
        }
        break;
    }
    if (p >= b)
        return;
    if (title) {
        add_person(x, s, f, p, b);
        return;
    }
    /* a title inside the span: "Goldman Sachs Chief Executive David Solomon" */
    for (size_t q = p + 1; q < b; q++) {
        if (s->ti[f][q].wc & WC_CONN)
            continue;
        ww_gaz_match_t tm;
        if (gaz_at(x, s, f, q, b, &tm) && (tm.mask & WW_GAZ_TITLE) && q + tm.ntok < b &&
            !(s->ti[f][q - 1].wc & WC_CONN)) {
            type_rest(x, s, f, p, q);
            add_person(x, s, f, q + tm.ntok, b);
            return;
        }
    }
    type_rest(x, s, f, p, b);
}

#define MAX_SPAN 8

/* Capitalised spans of a field whose case is informative. */
static void find_names(const ww_extractor_t *x, ww_extract_scratch_t *s, int f)
{
    const ww_tokens_t *tk = &s->tk[f];
    const tinfo_t *ti = s->ti[f];
    size_t n = tk->n;
    size_t i = 0;
    while (i < n) {
        uint8_t fl = ti[i].flags;
        if (!(fl & TF_CAP) || (fl & TF_USED)) {
            i++;
            continue;
        }
        ww_gaz_match_t gm;
        size_t g = gaz_at(x, s, f, i, n, &gm);
        if (!g) {
            if (ti[i].wc & (WC_STOP | WC_CONN | WC_SPEECH)) {
                i++;
                continue;
            }
            if ((fl & TF_SENT) && umap_get(&s->lower, tk->toks[i].hash, NULL)) {
                i++;
                continue;
            }
        }
        size_t j = i + (g ? g : 1);
        while (j < n && j - i < MAX_SPAN) {
            if ((ti[j].flags & TF_USED) || !joinable(ti, j) || (ti[j].flags & TF_SENT))
                break;
            if (ti[j].gap == GAP_APOS && !(ti[j].flags & TF_CAP))
                break;
            if ((ti[j].flags & TF_CAP) && !(ti[j].wc & (WC_STOP | WC_CONN))) {
                j++;
                continue;
            }
            if (ti[j].wc & WC_CONN) {
                /* up to two connectors, then a capitalised word */
                size_t k = j;
                bool has_and = false;
                while (k < n && k - j < 2 && (ti[k].wc & WC_CONN) && joinable(ti, k) &&
                       !(ti[k].flags & TF_USED)) {
                    has_and |= (ti[k].wc & WC_AND) != 0;
                    k++;
                }
                if (k < n && joinable(ti, k) && (ti[k].flags & TF_CAP) &&
                    !(ti[k].wc & (WC_STOP | WC_CONN)) && !(ti[k].flags & (TF_USED | TF_SENT)) &&
                    (!has_and || (ti[i].wc & WC_ORGHEAD)) && k + 1 - i <= MAX_SPAN) {
                    j = k + 1;
                    continue;
                }
            }
            break;
        }
        segment(x, s, f, i, j);
        i = j;
    }
}

/* Sequence key of tokens [a, b) of a field (same chain as mentions use). */
static uint64_t seq_key(const ww_tokens_t *tk, size_t a, size_t b)
{
    uint64_t h = 0x51ed270b27b3a9f1ULL;
    for (size_t i = a; i < b; i++)
        h = mix64(h ^ tk->toks[i].hash) + i - a;
    return nz(h);
}

/* A field whose capitals say nothing: names the body already found (by their
 * words) and gazetteer phrases. */
static void find_names_caseless(const ww_extractor_t *x, ww_extract_scratch_t *s, int f,
                                size_t nbody)
{
    const ww_tokens_t *tk = &s->tk[f];
    const tinfo_t *ti = s->ti[f];
    const ww_tokens_t *bt = &s->tk[WW_FIELD_BODY];
    /* body mentions by word sequence (names only) */
    umap_reset(&s->map, nbody);
    size_t maxlen = 0;
    for (size_t k = 0; k < nbody; k++) {
        const mention_t *m = &s->m[k];
        if (m->field != WW_FIELD_BODY || (m->type > WW_ENT_MISC && m->type != T_UNK && m->type != T_UNKM) ||
            m->tb - m->ta > WW_GAZ_MAX_TOKENS)
            continue;
        umap_put(&s->map, seq_key(bt, m->ta, m->tb), (uint32_t)k);
        if (m->tb - m->ta > maxlen)
            maxlen = m->tb - m->ta;
    }
    for (size_t i = 0; i < tk->n;) {
        if (ti[i].flags & TF_USED) {
            i++;
            continue;
        }
        size_t lim = 1;
        while (i + lim < tk->n && lim < maxlen && joinable(ti, i + lim) &&
               !(ti[i + lim].flags & TF_USED))
            lim++;
        size_t best = 0;
        uint32_t bm = 0;
        if (f != WW_FIELD_BODY) {
            for (size_t l = lim; l >= 1 && maxlen; l--) {
                uint32_t v;
                if (umap_get(&s->map, seq_key(tk, i, i + l), &v)) {
                    best = l;
                    bm = v;
                    break;
                }
            }
        }
        ww_gaz_match_t gm;
        size_t g = gaz_at(x, s, f, i, tk->n, &gm);
        if (g > best && gaz_type(gm.mask) >= 0) {
            add_tok_mention(s, f, i, i + g, gaz_type(gm.mask), gm.canonical);
            i += g;
        } else if (best) {
            const mention_t *bmn = &s->m[bm];
            uint8_t sent = bmn->sent;
            mention_t *nm = add_tok_mention(s, f, i, i + best, bmn->type, bmn->gaz_canon);
            nm->sent = sent;
            nm->body_key = seq_key(tk, i, i + best);
            i += best;
        } else {
            i++;
        }
    }
}

/* ---- names from the trained labeller --------------------------------------------- */

/* Labels title and body as one document ("title\n\nbody") and turns the
 * names into mentions; names overlapping a DATE/MONEY/PERCENT are dropped.
 * A headline whose case says nothing takes the body's reading of the same
 * words (body_key), and names keep the gazetteer's canonical spelling. */
static size_t tok_from(const ww_tokens_t *tk, size_t pos);

static void find_names_ner(const ww_extractor_t *x, ww_extract_scratch_t *s)
{
    if (!s->ner)
        s->ner = ww_ner_scratch_new();
    size_t tl = s->len[WW_FIELD_TITLE], bl = s->len[WW_FIELD_BODY];
    if ((uint64_t)tl + bl + 2 >= UINT32_MAX)
        return;
    WW_GROW(s->ndoc, s->ndoc_cap, tl + bl + 3);
    if (tl) /* an absent field is NULL: memcpy must not see it, even for 0 bytes */
        memcpy(s->ndoc, s->txt[WW_FIELD_TITLE], tl);
    memcpy(s->ndoc + tl, "\n\n", 2);
    if (bl)
        memcpy(s->ndoc + tl + 2, s->txt[WW_FIELD_BODY], bl);
    s->ndoc[tl + 2 + bl] = '\0';
    size_t n = ww_ner_tokenize(s->ndoc, tl + 2 + bl, &s->ntok, &s->ntok_cap);
    if (!n)
        return;
    WW_GROW(s->nlab, s->nlab_cap, n);
    ww_ner_doc_t d = {s->ndoc, s->ntok, n};
    ww_ner_label(x->ner, s->ner, &d, s->nlab);
    size_t ne = ww_ner_spans(s->nlab, n, &s->nent, &s->nent_cap);
    for (size_t k = 0; k < ne; k++) {
        const ww_ner_tok_t *a = &s->ntok[s->nent[k].ta], *b = &s->ntok[s->nent[k].tb - 1];
        size_t start = a->start, end = (size_t)b->start + b->len;
        int f = WW_FIELD_TITLE;
        size_t base = 0;
        if (start >= tl + 2) {
            f = WW_FIELD_BODY;
            base = tl + 2;
        } else if (end > tl) {
            continue; /* cannot straddle the fields (defensive) */
        }
        start -= base;
        end -= base;
        const ww_tokens_t *tk = &s->tk[f];
        size_t ta = tok_from(tk, start), tb = tok_from(tk, end);
        if (ta >= tb)
            continue; /* punctuation only */
        bool used = false;
        for (size_t i = ta; i < tb; i++)
            used |= (s->ti[f][i].flags & TF_USED) != 0;
        if (used)
            continue;
        ww_gaz_match_t gm;
        const char *canon = NULL;
        int type = s->nent[k].type;
        if (ww_gazetteer_match(x->gaz, tk, ta, tb - ta, &gm) == tb - ta) {
            /* a place the gazetteer knows and nothing else: "the Philippines" */
            if (type == WW_ENT_ORG && (gm.mask & WW_GAZ_LOC) && !(gm.mask & WW_GAZ_ORG))
                type = WW_ENT_LOC;
            if (gaz_type(gm.mask) == type)
                canon = gm.canonical;
        }
        mention_t *m = add_mention(s, f, ta, tb, (uint32_t)start, (uint32_t)end, type, canon);
        if (f == WW_FIELD_TITLE && !s->informative[f])
            m->body_key = seq_key(tk, ta, tb);
    }
}

/* ---- resolution: types of unknown spans, canonical names, counts ------------------- */

static uint32_t sbuf_add(ww_extract_scratch_t *s, const char *p, size_t n)
{
    WW_GROW(s->sbuf, s->scap, s->slen + n + 1);
    uint32_t off = (uint32_t)s->slen;
    if (n)
        memcpy(s->sbuf + off, p, n);
    s->sbuf[off + n] = '\0';
    s->slen += n + 1;
    return off;
}

/* The mention's text with white space runs collapsed to one space. */
static uint32_t sbuf_add_norm(ww_extract_scratch_t *s, const mention_t *m)
{
    const char *p = s->txt[m->field] + m->start;
    size_t n = m->end - m->start;
    WW_GROW(s->sbuf, s->scap, s->slen + n + 1);
    uint32_t off = (uint32_t)s->slen;
    char *d = s->sbuf + off;
    size_t o = 0;
    bool sp = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            sp = true;
            continue;
        }
        if (sp && o)
            d[o++] = ' ';
        sp = false;
        d[o++] = c;
    }
    d[o] = '\0';
    s->slen += o + 1;
    return off;
}

static inline uint64_t tok_hash(const ww_extract_scratch_t *s, const mention_t *m, uint32_t i)
{
    return s->tk[m->field].toks[i].hash;
}

/* Canonical name (and final type) of one mention; s->map holds the longest
 * person mentions by first and last word. */
static void resolve_one(ww_extract_scratch_t *s, mention_t *m)
{
    mention_t *M = s->m;
    if (m->type == WW_ENT_PER && m->tb - m->ta >= 2) {
        /* a two-word form inside a longer one ("Joe Biden" / "Joe R. Biden") takes the longer */
        uint32_t v;
        if (umap_get(&s->map, mix64(tok_hash(s, m, m->tb - 1) ^ 2), &v) &&
            M[v].tb - M[v].ta > m->tb - m->ta && tok_hash(s, &M[v], M[v].ta) == tok_hash(s, m, m->ta))
            m->canon_off = M[v].canon_off;
        return;
    }
    if (m->tb - m->ta == 1 &&
        (m->type == T_UNK || m->type == WW_ENT_PER || (m->type <= WW_ENT_MISC && !m->gaz_canon))) {
        uint64_t h = tok_hash(s, m, m->ta);
        uint32_t v;
        if (umap_get(&s->map, mix64(h ^ 2), &v) || umap_get(&s->map, mix64(h ^ 1), &v)) {
            m->type = WW_ENT_PER;
            m->canon_off = M[v].canon_off;
            return;
        }
    }
    if (m->type == T_UNK)
        m->type = m->sent ? T_DROP : WW_ENT_MISC;
    if (m->type == T_DROP)
        return;
    m->canon_off = m->gaz_canon ? sbuf_add(s, m->gaz_canon, strlen(m->gaz_canon)) : sbuf_add_norm(s, m);
}

static void resolve(ww_extract_scratch_t *s)
{
    size_t nm = s->nm;
    mention_t *M = s->m;
    /* 1. single capitalised words seen in the document */
    umap_reset(&s->map, nm);
    for (size_t k = 0; k < nm; k++)
        if (M[k].tb - M[k].ta == 1 && (M[k].type == T_UNK || M[k].type == WW_ENT_PER))
            umap_put(&s->map, tok_hash(s, &M[k], M[k].ta), 1);
    /* 2. unknown multi-word spans: a person when their last word stands alone elsewhere */
    for (size_t k = 0; k < nm; k++)
        if (M[k].type == T_UNKM)
            M[k].type = umap_get(&s->map, tok_hash(s, &M[k], M[k].tb - 1), NULL) ? WW_ENT_PER
                                                                                  : WW_ENT_MISC;
    /* 3. longest person mention by first word (key tag 1) and last word (tag 2) */
    umap_reset(&s->map, nm * 2);
    for (size_t k = 0; k < nm; k++) {
        if (M[k].type != WW_ENT_PER || M[k].tb - M[k].ta < 2 || M[k].body_key)
            continue; /* a caseless headline copy never names the long form */
        uint64_t keys[2] = {mix64(tok_hash(s, &M[k], M[k].ta) ^ 1),
                            mix64(tok_hash(s, &M[k], M[k].tb - 1) ^ 2)};
        for (int z = 0; z < 2; z++) {
            uint32_t *v = umap_put(&s->map, keys[z], (uint32_t)k);
            const mention_t *o = &M[*v];
            if (M[k].tb - M[k].ta > o->tb - o->ta)
                *v = (uint32_t)k;
        }
    }
    /* 4. canonical strings; short forms of people map to the longest form */
    s->slen = 0;
    for (size_t k = 0; k < nm; k++)
        if (M[k].type == WW_ENT_PER && M[k].tb - M[k].ta >= 2)
            M[k].canon_off = sbuf_add_norm(s, &M[k]);
    /* body first (pass 0), then headline copies of body names take the body's result */
    umap_reset(&s->map2, nm);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < nm; k++) {
            mention_t *m = &M[k];
            if ((pass == 0) != (m->field == WW_FIELD_BODY))
                continue;
            uint32_t v;
            if (m->body_key && umap_get(&s->map2, m->body_key, &v)) {
                m->type = M[v].type;
                m->canon_off = M[v].canon_off;
                continue;
            }
            resolve_one(s, m);
            if (pass == 0 && m->type <= WW_ENT_MISC)
                umap_put(&s->map2, seq_key(&s->tk[WW_FIELD_BODY], m->ta, m->tb), (uint32_t)k);
        }
    }
    /* 5. counts per (type, canonical) */
    umap_reset(&s->map, nm);
    for (size_t k = 0; k < nm; k++) {
        mention_t *m = &M[k];
        if (m->type == T_DROP)
            continue;
        const char *c = s->sbuf + m->canon_off;
        m->canon_hash = mix64(ww_hash_bytes(c, strlen(c)) ^ m->type);
        (*umap_put(&s->map, m->canon_hash, 0))++;
    }
    for (size_t k = 0; k < nm; k++)
        if (M[k].type != T_DROP)
            umap_get(&s->map, M[k].canon_hash, &M[k].count);
}

static int cmp_mention(const void *a, const void *b)
{
    const mention_t *x = a, *y = b;
    if (x->field != y->field)
        return x->field < y->field ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return 0;
}

/* NUL-terminated copy of p[0..n) in scratch; borrowed until the next call. */
static const char *tmp_copy(ww_extract_scratch_t *s, const char *p, size_t n)
{
    WW_GROW(s->tmp, s->tmp_cap, n + 1);
    if (n)
        memcpy(s->tmp, p, n);
    s->tmp[n] = '\0';
    return s->tmp;
}

/* ---- quotes ----------------------------------------------------------------------- */

/* Index of the first body mention of type PER starting at token ta..ta+span. */
static const mention_t *per_at(ww_extract_scratch_t *s, size_t lo_m, size_t ta, size_t span)
{
    for (size_t k = lo_m; k < s->nm; k++) {
        const mention_t *m = &s->m[k];
        if (m->field != WW_FIELD_BODY)
            continue;
        if (m->ta > ta + span)
            break;
        if (m->ta >= ta && m->type == WW_ENT_PER)
            return m;
    }
    return NULL;
}

/* Last PER mention of the body ending at or before byte `pos`. */
static const mention_t *per_before(ww_extract_scratch_t *s, size_t lo_m, uint32_t pos)
{
    const mention_t *best = NULL;
    for (size_t k = lo_m; k < s->nm && s->m[k].start < pos; k++)
        if (s->m[k].type == WW_ENT_PER && s->m[k].end <= pos)
            best = &s->m[k];
    return best;
}

/* Last PER mention ending at token tb (exclusive end == tb). */
static const mention_t *per_ending(ww_extract_scratch_t *s, size_t lo_m, size_t tb)
{
    for (size_t k = lo_m; k < s->nm; k++) {
        const mention_t *m = &s->m[k];
        if (m->ta >= tb)
            break;
        if (m->tb == tb && m->type == WW_ENT_PER)
            return m;
    }
    return NULL;
}

/* First token starting at or after byte pos (binary search). */
static size_t tok_from(const ww_tokens_t *tk, size_t pos)
{
    size_t lo = 0, hi = tk->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tk->toks[mid].start < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Finds the speaker of the quote whose text lies in [qs, qe) and whose
 * closing mark ends at ce. Returns 1 with *speaker (may be NULL: unknown) when
 * a speech verb attributes it, 0 when nothing does. */
static int attribute(ww_extract_scratch_t *s, size_t lo_m, size_t qs, size_t ce,
                     const mention_t **speaker)
{
    const ww_tokens_t *tk = &s->tk[WW_FIELD_BODY];
    const tinfo_t *ti = s->ti[WW_FIELD_BODY];
    const char *txt = s->txt[WW_FIELD_BODY];
    *speaker = NULL;
    size_t t = tok_from(tk, ce);
    bool near = t < tk->n;
    for (size_t p = ce; near && p < tk->toks[t].start; p++)
        if (txt[p] == '\n' || txt[p] == '.' || p - ce > 4)
            near = false;
    if (near) {
        /* ..." said Li Qiang / said Mr Li / said the ministry */
        if (ti[t].wc & WC_SPEECH) {
            const mention_t *m = per_at(s, lo_m, t + 1, 2);
            if (m && m->type != T_DROP) {
                *speaker = m;
            } else if (t + 1 < tk->n && (ti[t + 1].wc & WC_PRONOUN)) {
                *speaker = per_before(s, lo_m, (uint32_t)qs);
            }
            return 1;
        }
        /* ..." Li Qiang said / he said / the minister said */
        const mention_t *m = per_at(s, lo_m, t, 1);
        if (m && m->tb < tk->n && (ti[m->tb].wc & WC_SPEECH)) {
            *speaker = m;
            return 1;
        }
        if ((ti[t].wc & WC_PRONOUN) && t + 1 < tk->n && (ti[t + 1].wc & WC_SPEECH)) {
            *speaker = per_before(s, lo_m, (uint32_t)qs);
            return 1;
        }
        for (size_t z = t; z < tk->n && z < t + 4 && (z == t || ti[z].gap == GAP_SPACE); z++)
            if (ti[z].wc & WC_SPEECH)
                return 1;
    }
    /* Li Qiang said: "..." */
    size_t u = tok_from(tk, qs);
    if (u == 0)
        return 0;
    u--; /* last token before the opening mark */
    for (size_t p = tk->toks[u].end; p < qs; p++)
        if (txt[p] == '\n' || txt[p] == '.')
            return 0;
    if (!(ti[u].wc & WC_SPEECH)) {
        /* Li told reporters: "..." */
        if (u > 0 && (ti[u - 1].wc & WC_SPEECH) && strcmp(ww_token_fold(tk, u - 1), "told") == 0)
            u--;
        else
            return 0;
    }
    const mention_t *m = per_ending(s, lo_m, u);
    if (m) {
        *speaker = m;
    } else if (u > 0 && (ti[u - 1].wc & WC_PRONOUN)) {
        *speaker = per_before(s, lo_m, (uint32_t)qs);
    }
    return 1;
}

static void find_quotes(ww_extract_scratch_t *s, ww_event_t *ev, size_t lo_m)
{
    const char *txt = s->txt[WW_FIELD_BODY];
    size_t len = s->len[WW_FIELD_BODY];
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)txt[i];
        const char *close;
        size_t ol;
        if (c == '"') {
            close = "\"";
            ol = 1;
        } else if (c == 0xE2 && i + 2 < len && (unsigned char)txt[i + 1] == 0x80 &&
                   (unsigned char)txt[i + 2] == 0x9C) {
            close = "\xE2\x80\x9D";
            ol = 3;
        } else if (c == 0xC2 && i + 1 < len && (unsigned char)txt[i + 1] == 0xAB) {
            close = "\xC2\xBB";
            ol = 2;
        } else {
            i++;
            continue;
        }
        size_t qs = i + ol, cl = strlen(close);
        size_t lim = qs + 4000 < len ? qs + 4000 : len;
        size_t e = qs;
        while (e + cl <= lim && memcmp(txt + e, close, cl) != 0 &&
               !(txt[e] == '\n' && e + 1 < len && txt[e + 1] == '\n'))
            e++;
        if (e + cl > lim || memcmp(txt + e, close, cl) != 0) {
            i = qs; /* unmatched: skip the opening mark */
            continue;
        }
        size_t ce = e + cl;
        size_t a = qs, b = e;
        while (a < b && (txt[a] == ' ' || txt[a] == '\n'))
            a++;
        while (b > a && (txt[b - 1] == ' ' || txt[b - 1] == ',' || txt[b - 1] == '\n'))
            b--;
        const mention_t *sp;
        if (b > a && attribute(s, lo_m, qs - ol, ce, &sp)) {
            const char *name = sp ? s->sbuf + sp->canon_off : "";
            char *q = ww_strndup(txt + a, b - a);
            ww_event_add_quote(ev, name, q);
            ww_free(q);
        }
        i = ce;
    }
}

/* ---- keywords --------------------------------------------------------------------- */

#define KW_MAX 10    /* words */
#define KW_PHRASES 5 /* phrases of 2-3 words, each repeated in the document */

static bool kw_word(const ww_extract_scratch_t *s, int f, size_t i)
{
    const ww_token_t *t = &s->tk[f].toks[i];
    return !(t->flags & WW_TOK_HAS_DIGIT) && t->fold_len >= 3 && !(s->ti[f][i].wc & WC_STOP);
}

/* Higher score first, then the term. */
static int cmp_kw(const void *a, const void *b)
{
    const kw_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->term, y->term);
}

/* Counts term key at token ref (nw words) in the candidate table. */
static void kw_count(ww_extract_scratch_t *s, uint64_t key, uint32_t ref, uint8_t nw)
{
    uint32_t *v = umap_put(&s->map, key, UINT32_MAX);
    if (*v == UINT32_MAX) {
        WW_GROW(s->kw, s->cap_kw, s->nkw + 1);
        s->kw[s->nkw] = (kw_t){key, 0, ref, nw, NULL, 0};
        *v = (uint32_t)s->nkw++;
    }
    s->kw[*v].count++;
}

/* Keywords by TF-IDF: candidates are words of 3+ letters that are not
 * function words, and phrases of 2-3 such words with nothing but a space,
 * hyphen, apostrophe or initial's period between them. Score
 * (1 + ln tf) * idf, idf over the built-in and live document frequencies
 * (plain TF when neither has counted a document); phrases must repeat. The
 * best KW_MAX words and KW_PHRASES phrases go to the event, scores divided by
 * the best one. Also leaves the document's distinct terms in s->terms. */
static void find_keywords(const ww_extractor_t *x, ww_extract_scratch_t *s, ww_event_t *ev)
{
    size_t total = s->tk[0].n + s->tk[1].n;
    umap_reset(&s->map, total * 3);
    s->nkw = 0;
    s->kwlen = 0;
    s->nterms = 0;
    for (int f = 0; f < 2; f++) {
        const ww_tokens_t *tk = &s->tk[f];
        const tinfo_t *ti = s->ti[f];
        uint32_t run = 0; /* candidate words ending at i-1, joined */
        for (size_t i = 0; i < tk->n; i++) {
            if (!kw_word(s, f, i)) {
                run = 0;
                continue;
            }
            if (run && ti[i].gap == GAP_OTHER)
                run = 0;
            uint64_t h = tk->toks[i].hash;
            uint32_t ref = (uint32_t)f << 31;
            kw_count(s, h, ref | (uint32_t)i, 1);
            if (run >= 1)
                kw_count(s, ww_df_phrase_key(tk->toks[i - 1].hash, h), ref | (uint32_t)(i - 1), 2);
            if (run >= 2)
                kw_count(s,
                         ww_df_phrase_key(ww_df_phrase_key(tk->toks[i - 2].hash, tk->toks[i - 1].hash), h),
                         ref | (uint32_t)(i - 2), 3);
            run++;
        }
    }
    /* eligible terms: their text, their score; the rest drop out */
    size_t need = 0;
    for (size_t k = 0; k < s->nkw; k++) {
        const kw_t *w = &s->kw[k];
        if (w->nw > 1 && w->count >= 2) {
            int f = (int)(w->ref >> 31);
            size_t i = w->ref & 0x7fffffffu;
            for (size_t j = 0; j < w->nw; j++)
                need += s->tk[f].toks[i + j].fold_len + 1;
        }
    }
    WW_GROW(s->kwbuf, s->kwcap, need + 1);
    size_t ne = 0;
    for (size_t k = 0; k < s->nkw; k++) {
        kw_t w = s->kw[k];
        int f = (int)(w.ref >> 31);
        size_t i = w.ref & 0x7fffffffu;
        if (w.nw == 1) {
            w.term = ww_token_fold(&s->tk[f], i);
        } else if (w.count >= 2) {
            char *d = s->kwbuf + s->kwlen;
            size_t n = 0;
            for (size_t j = 0; j < w.nw; j++) {
                const ww_token_t *t = &s->tk[f].toks[i + j];
                if (j)
                    d[n++] = ' ';
                memcpy(d + n, s->tk[f].fold + t->fold_off, t->fold_len);
                n += t->fold_len;
            }
            d[n] = '\0';
            w.term = d;
            s->kwlen += n + 1;
        } else {
            continue;
        }
        w.score = (1.0 + log((double)w.count)) * ww_df_idf(x->df, s->live, w.key);
        s->kw[ne++] = w;
    }
    s->nkw = ne;
    WW_GROW(s->terms, s->cap_terms, ne + 1);
    for (size_t k = 0; k < ne; k++)
        s->terms[k] = (ww_term_t){s->kw[k].term, s->kw[k].key};
    s->nterms = ne;
    if (s->nkw > 1)
        qsort(s->kw, s->nkw, sizeof *s->kw, cmp_kw);
    size_t words = 0, phrases = 0;
    double best = s->nkw ? s->kw[0].score : 1.0;
    for (size_t k = 0; k < s->nkw && (words < KW_MAX || phrases < KW_PHRASES); k++) {
        const kw_t *w = &s->kw[k];
        size_t *taken = w->nw > 1 ? &phrases : &words;
        if (*taken >= (w->nw > 1 ? KW_PHRASES : KW_MAX))
            continue;
        (*taken)++;
        ww_event_add_keyword(ev, w->term, w->score / best);
    }
}

/* ---- entry point ------------------------------------------------------------------- */

int ww_extract_event(const ww_extractor_t *x, ww_extract_scratch_t *s, ww_event_t *ev)
{
    ww_event_clear_enrichment(ev);
    s->txt[WW_FIELD_TITLE] = ev->title ? ev->title : "";
    s->txt[WW_FIELD_BODY] = ev->body ? ev->body : "";
    s->nm = 0;
    for (int f = 0; f < 2; f++) {
        s->len[f] = strlen(s->txt[f]);
        if (s->len[f] >= UINT32_MAX)
            s->len[f] = 0; /* offsets are 32-bit; such a field is not analysed */
        annotate(x, s, f);
    }
    /* words written in lower case anywhere: a capitalised sentence start is one of them */
    umap_reset(&s->lower, s->tk[0].n + s->tk[1].n);
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < s->tk[f].n; i++)
            if (!(s->tk[f].toks[i].flags & (WW_TOK_UPPER_INITIAL | WW_TOK_HAS_DIGIT)))
                umap_put(&s->lower, s->tk[f].toks[i].hash, 1);

    /* body first: the headline may reuse its names */
    const int order[2] = {WW_FIELD_BODY, WW_FIELD_TITLE};
    size_t nbody = 0;
    if (x->ner) {
        find_numbers(x, s, WW_FIELD_BODY);
        find_numbers(x, s, WW_FIELD_TITLE);
        find_names_ner(x, s);
    }
    for (int o = 0; o < 2 && !x->ner; o++) {
        int f = order[o];
        find_numbers(x, s, f);
        if (s->informative[f])
            find_names(x, s, f);
        else
            find_names_caseless(x, s, f, nbody);
        if (f == WW_FIELD_BODY)
            nbody = s->nm;
    }
    if (s->nm > 1)
        qsort(s->m, s->nm, sizeof *s->m, cmp_mention);
    resolve(s);
    size_t lo_body = 0;
    while (lo_body < s->nm && s->m[lo_body].field != WW_FIELD_BODY)
        lo_body++;
    for (size_t k = 0; k < s->nm; k++) {
        const mention_t *m = &s->m[k];
        if (m->type == T_DROP || m->start >= m->end || m->end > s->len[m->field])
            continue;
        const char *text = tmp_copy(s, s->txt[m->field] + m->start, m->end - m->start);
        ww_event_add_entity(ev, text, s->sbuf + m->canon_off, (ww_ent_type_t)m->type,
                            (ww_field_t)m->field, m->start, m->end, m->count);
    }
    find_quotes(s, ev, lo_body);
    find_keywords(x, s, ev);
    return 0;
}
