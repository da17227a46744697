/* cmd_extract.c - `wirewatch extract` (entities, keywords, quotes of plain
 * text). `wirewatch stats` lives in cmd_stats.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/extract.h"
#include "ww/fileutil.h"

int cmd_extract(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'c': cc.config_path = optarg; break;
        case 'h':
            printf("Usage: wirewatch extract [FILE|-] [--json]\n"
                   "Runs the extractor on plain text and prints entities, keywords and quotes.\n");
            return 0;
        default: return 2;
        }
    }
    if (argc - optind > 1)
        return 2;
    const char *path = optind < argc ? argv[optind] : "-";
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t len;
    char *text = ww_stream_read(f, &len);
    if (f != stdin)
        fclose(f);
    if (cli_load_config(&cc) != 0) {
        ww_free(text);
        return 2;
    }
    char err[512];
    ww_extractor_t *x = ww_extractor_new(cc.cfg.extract.gazetteer, cc.cfg.extract.model, err, sizeof err);
    if (!x) {
        fprintf(stderr, "wirewatch extract: %s\n", err);
        ww_free(text);
        ww_config_free(&cc.cfg);
        return 1;
    }
    ww_event_t *ev = ww_event_new();
    bool repaired;
    ev->body = ww_utf8_repair(text, len, &repaired);
    ww_free(text);
    ww_extract_scratch_t *s = ww_extract_scratch_new();
    ww_extract_event(x, s, ev);
    if (json) {
        char *j = ww_event_to_json(ev);
        printf("%s\n", j);
        ww_free(j);
    } else {
        printf("entities:\n");
        for (size_t i = 0; i < ev->n_entities; i++) {
            const ww_entity_t *e = &ev->entities[i];
            printf("  %-7s %-30s canonical=\"%s\" %s %u-%u count=%u\n", ww_ent_type_name(e->type), e->text,
                   e->canonical, ww_field_name(e->field), e->start, e->end, e->count);
        }
        printf("keywords:\n");
        for (size_t i = 0; i < ev->n_keywords; i++)
            printf("  %-30s %.3f\n", ev->keywords[i].term, ev->keywords[i].score);
        printf("quotes:\n");
        for (size_t i = 0; i < ev->n_quotes; i++)
            printf("  %s: \"%s\"\n", ev->quotes[i].speaker[0] ? ev->quotes[i].speaker : "(unknown)",
                   ev->quotes[i].text);
    }
    ww_event_destroy(&ev);
    ww_extract_scratch_destroy(&s);
    ww_extractor_destroy(&x);
    ww_config_free(&cc.cfg);
    return 0;
}
