/* gen_gazetteer.c - builds gazetteer.tsv (see include/ww/gazetteer.h) at build
 * time from Debian's iso-codes JSON files and the hand-written
 * data/gazetteer-extra.tsv.
 *
 *   ww-gen-gazetteer OUT ISO_JSON_DIR EXTRA_TSV
 *
 * The extra list is copied first (so its canonical names win), then the
 * generated entries follow, sorted and without duplicates:
 *   iso_3166-1  country names, common and official names -> LOC, canonical
 *               the common name ("Korea, Republic of" -> "South Korea")
 *   iso_3166-2  subdivision names -> LOC, except one-word names that are
 *               common English words or first names in the extra list
 *   iso_3166-3  former country names -> LOC
 *   iso_4217    currency codes and names (and plurals) -> CUR
 * Writes OUT.tmp and renames it, so an interrupted build leaves no half file.
 * Exit status 0, or 1 with a message on stderr. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One-word subdivision names that are ordinary words in English news text. */
static const char *const subdiv_stop[] = {
    "central", "centre",  "center", "coast",    "east",     "eastern", "west",   "western",
    "north",   "northern", "south", "southern", "highland", "lakes",   "plateau", "capital",
    "delta",   "est",     "nord",   "norte",    "sud",      "sul",     "littoral", "bay",
    "bar",     "most",    "pool",   "paul",     "mary",     "male",    "mon",    "unity",
    "nip",     "lot",     "sal",    "sid",      "van",      "meta",    "brent",  "gulf",
    "derby",   "mono",    "saga",   "tata",     "moka",     "var",     "vas",    "para",
    "kara",    "grad",    "isla",   "lara",     "lola",     "mila",    "maio",   "seti",
    "safi",    "mara",    "ewa",    "ebon",     "bury",     "brava",   "kose",   "kole",
    "ain",     "tak",     "nan",    "lau",      "alo",      "tuy",     "mie",    "lib",
    "oti",     "boe",     "bam",    "lae",      "uri",      "ig",      "ba",     "ra",
    "sila",    "lira",    "real",   "gao",      "eger",     "pita",    "rae",    "bong",
    "cher",    "chin",    "cork",   "kent",     "paris",    "york",    "orange", "victoria",
    NULL};

typedef struct {
    json_t *seen; /* "phrase\tTYPE" -> canonical (string, may be "") */
    json_t *gen;  /* same, only the generated entries, for sorted output */
    json_t *firsts; /* lower-cased FIRST names of the extra list */
} gen_t;

static void lower_ascii(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static bool in_list(const char *const *list, const char *w)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], w) == 0)
            return true;
    return false;
}

/* Collapses white space runs, trims, drops a leading "The "/"the ". In place. */
static void tidy(char *s)
{
    char *d = s;
    bool sp = true;
    for (char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            if (!sp)
                *d++ = ' ';
            sp = true;
        } else {
            *d++ = *p;
            sp = false;
        }
    }
    if (d > s && d[-1] == ' ')
        d--;
    *d = '\0';
    if (strncmp(s, "The ", 4) == 0 || strncmp(s, "the ", 4) == 0)
        memmove(s, s + 4, strlen(s + 4) + 1);
}

/* Removes "(...)" groups; moves "[...]" groups out into alt (first one only,
 * skipped when it holds a code like "GB-CRD"). In place. */
static void strip_groups(char *s, char *alt, size_t altlen)
{
    alt[0] = '\0';
    char *d = s;
    for (char *p = s; *p;) {
        if (*p == '(' || *p == '[') {
            char close = *p == '(' ? ')' : ']';
            char *e = strchr(p, close);
            if (!e)
                break;
            if (*p == '[' && !alt[0] && (size_t)(e - p) < altlen && !memchr(p, '-', (size_t)(e - p))) {
                memcpy(alt, p + 1, (size_t)(e - p - 1));
                alt[e - p - 1] = '\0';
            }
            p = e + 1;
            continue;
        }
        *d++ = *p++;
    }
    *d = '\0';
    tidy(s);
    tidy(alt);
}

static void emit(gen_t *g, const char *phrase, const char *type, const char *canon)
{
    if (!phrase[0] || strchr(phrase, '\t') || strchr(phrase, '\n'))
        return;
    /* the loader keeps phrases of at most 6 words (WW_GAZ_MAX_TOKENS) */
    size_t words = 1;
    for (const char *p = phrase; *p; p++)
        words += (*p == ' ' || *p == '-' || *p == '\'' || *p == '.') && p[1] && p[1] != ' ';
    if (words > 6)
        return;
    char key[1024];
    if ((size_t)snprintf(key, sizeof key, "%s\t%s", phrase, type) >= sizeof key)
        return;
    if (json_object_get(g->seen, key))
        return;
    const char *c = canon && strcmp(canon, phrase) != 0 ? canon : "";
    json_object_set_new(g->seen, key, json_string(c));
    json_object_set_new(g->gen, key, json_string(c));
}

/* Emits a (tidied) name and its variants: "A / B" alternatives, "[alt]"
 * groups, and for "A, B" the head A plus (when invert) "B A". */
static void emit_name(gen_t *g, const char *name, const char *type, const char *canon, bool invert)
{
    char buf[512], alt[256];
    if (strlen(name) >= sizeof buf)
        return;
    strcpy(buf, name);
    strip_groups(buf, alt, sizeof alt);
    if (alt[0])
        emit_name(g, alt, type, canon, invert);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        tidy(buf);
        char rest[512];
        strcpy(rest, slash + 1);
        tidy(rest);
        emit_name(g, buf, type, canon, invert);
        emit_name(g, rest, type, canon, invert);
        return;
    }
    char *comma = strchr(buf, ',');
    if (!comma) {
        emit(g, buf, type, canon);
        return;
    }
    *comma = '\0';
    char head[512], tail[512];
    strcpy(head, buf);
    strcpy(tail, comma + 1);
    tidy(head);
    tidy(tail);
    emit(g, head, type, canon);
    if (invert && !strchr(tail, ',') && !strstr(tail, " and ") && !strstr(head, " and ")) {
        char inv[1100];
        snprintf(inv, sizeof inv, "%s %s", tail, head);
        tidy(inv);
        emit(g, inv, type, canon);
    }
}

static json_t *load_list(const char *dir, const char *file, const char *key)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        fprintf(stderr, "ww-gen-gazetteer: %s:%d: %s\n", path, jerr.line, jerr.text);
        return NULL;
    }
    json_t *arr = json_incref(json_object_get(root, key));
    json_decref(root);
    if (!json_is_array(arr)) {
        fprintf(stderr, "ww-gen-gazetteer: %s: no array \"%s\"\n", path, key);
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static const char *str_of(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

static void gen_countries(gen_t *g, json_t *arr)
{
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        const char *name = str_of(c, "name");
        if (!name)
            continue;
        char canon[512];
        const char *common = str_of(c, "common_name");
        if (common) {
            snprintf(canon, sizeof canon, "%s", common);
        } else {
            char alt[256];
            snprintf(canon, sizeof canon, "%s", name);
            strip_groups(canon, alt, sizeof alt);
            char *comma = strchr(canon, ',');
            if (comma)
                *comma = '\0';
            tidy(canon);
        }
        emit_name(g, name, "LOC", canon, true);
        if (common)
            emit_name(g, common, "LOC", canon, true);
        const char *official = str_of(c, "official_name");
        if (official)
            emit_name(g, official, "LOC", canon, true);
    }
}

static void gen_subdivisions(gen_t *g, json_t *arr)
{
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        const char *name = str_of(c, "name");
        if (!name)
            continue;
        if (!strchr(name, ' ') && !strchr(name, '-')) {
            char low[256];
            if (strlen(name) >= sizeof low || strlen(name) < 3)
                continue;
            strcpy(low, name);
            lower_ascii(low);
            if (in_list(subdiv_stop, low) || json_object_get(g->firsts, low))
                continue;
        }
        emit_name(g, name, "LOC", NULL, true);
    }
}

static void gen_former(gen_t *g, json_t *arr)
{
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        const char *name = str_of(c, "name");
        if (name)
            emit_name(g, name, "LOC", NULL, false);
    }
}

static void gen_currencies(gen_t *g, json_t *arr)
{
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        const char *code = str_of(c, "alpha_3");
        const char *name = str_of(c, "name");
        if (!code || !name || strchr(name, '(') || strpbrk(name, "0123456789"))
            continue;
        if (code[0] == 'X' && !strstr(name, "Franc") && !strstr(name, "Dollar"))
            continue; /* metals, funds, test codes */
        emit(g, code, "CUR", NULL);
        char buf[512];
        snprintf(buf, sizeof buf, "%s", name);
        tidy(buf);
        size_t words = 1;
        for (const char *p = buf; *p; p++)
            words += *p == ' ';
        if (words > 4)
            continue;
        emit(g, buf, "CUR", NULL);
        size_t n = strlen(buf);
        if (n > 0 && n + 2 < sizeof buf && buf[n - 1] != 's') {
            buf[n] = 's';
            buf[n + 1] = '\0';
            emit(g, buf, "CUR", NULL);
        }
    }
}

/* Copies the extra list to out and records its entries (and FIRST names). */
static int copy_extra(gen_t *g, const char *path, FILE *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "ww-gen-gazetteer: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(out, "# ---- from %s\n", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;
    while ((r = getline(&line, &cap, f)) >= 0) {
        fputs(line, out);
        if (r > 0 && line[r - 1] != '\n')
            fputc('\n', out);
        while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r'))
            line[--r] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *t1 = strchr(line, '\t');
        if (!t1)
            continue;
        char *t2 = strchr(t1 + 1, '\t');
        if (t2)
            *t2 = '\0';
        json_object_set_new(g->seen, line, json_string(""));
        if (strcmp(t1 + 1, "FIRST") == 0) {
            *t1 = '\0';
            lower_ascii(line);
            json_object_set_new(g->firsts, line, json_true());
        }
    }
    free(line);
    fclose(f);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ww-gen-gazetteer OUT ISO_JSON_DIR EXTRA_TSV\n");
        return 1;
    }
    const char *outp = argv[1], *dir = argv[2], *extra = argv[3];
    int rc = 1;
    gen_t g = {json_object(), json_object(), json_object()};
    json_t *c1 = NULL, *c2 = NULL, *c3 = NULL, *cur = NULL;
    const char **keys = NULL;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", outp);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "ww-gen-gazetteer: cannot write %s: %s\n", tmp, strerror(errno));
        goto cleanup;
    }
    fprintf(out, "# gazetteer.tsv - generated by ww-gen-gazetteer; do not edit.\n"
                 "# phrase<TAB>TYPE[<TAB>canonical]; see include/ww/gazetteer.h\n");
    if (copy_extra(&g, extra, out) < 0)
        goto cleanup;
    if (!(c1 = load_list(dir, "iso_3166-1.json", "3166-1")) ||
        !(c2 = load_list(dir, "iso_3166-2.json", "3166-2")) ||
        !(c3 = load_list(dir, "iso_3166-3.json", "3166-3")) ||
        !(cur = load_list(dir, "iso_4217.json", "4217")))
        goto cleanup;
    gen_countries(&g, c1);
    gen_former(&g, c3);
    gen_subdivisions(&g, c2);
    gen_currencies(&g, cur);

    size_t n = json_object_size(g.gen), k = 0;
    keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys)
        goto cleanup;
    const char *key;
    json_t *v;
    json_object_foreach(g.gen, key, v) keys[k++] = key;
    qsort(keys, n, sizeof *keys, cmp_str);
    fprintf(out, "# ---- from iso-codes (%s): %zu entries\n", dir, n);
    for (k = 0; k < n; k++) {
        const char *canon = json_string_value(json_object_get(g.gen, keys[k]));
        if (canon && *canon)
            fprintf(out, "%s\t%s\n", keys[k], canon);
        else
            fprintf(out, "%s\n", keys[k]);
    }
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "ww-gen-gazetteer: write error on %s\n", tmp);
        goto cleanup;
    }
    fclose(out);
    out = NULL;
    if (rename(tmp, outp) != 0) {
        fprintf(stderr, "ww-gen-gazetteer: rename %s: %s\n", tmp, strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (out) {
        fclose(out);
        remove(tmp);
    }
    free(keys);
    json_decref(cur);
    json_decref(c3);
    json_decref(c2);
    json_decref(c1);
    json_decref(g.firsts);
    json_decref(g.gen);
    json_decref(g.seen);
    return rc;
}
