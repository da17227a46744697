/* cmd_ner.c - `wirewatch ner`: label CoNLL files (SPEC §2), train a model,
 * evaluate one conlleval-style. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/ner.h"
#include "ww/paths.h"

#define NER_DEFAULT_MODEL "ner/ner-en.model"

static void ner_usage(FILE *f)
{
    fprintf(f,
            "Usage: wirewatch ner --conll FILE [--model M]     print FILE with the predicted IOB2 tag appended\n"
            "       wirewatch ner --eval FILE [--model M]      precision / recall / F1 per type (conlleval)\n"
            "       wirewatch ner --train TRAIN [--dev DEV] --out MODEL\n"
            "                     [--clusters F] [--gazetteer F] [--bits N] [--epochs N] [--folds N] [--seed N]\n"
            "The model defaults to extract.model of the configuration, else the bundled %s.\n",
            NER_DEFAULT_MODEL);
}

/* Loads the model named on the command line, in the config, or bundled. */
static ww_ner_model_t *load_model(const char *opt, cli_common_t *cc)
{
    const char *path = opt ? opt : cc->cfg.extract.model;
    char *def = NULL;
    if (!path) {
        def = ww_data_path(NER_DEFAULT_MODEL);
        if (!def) {
            fprintf(stderr, "wirewatch ner: no model: %s not found in the data directories\n",
                    NER_DEFAULT_MODEL);
            return NULL;
        }
        path = def;
    }
    char err[512];
    ww_ner_model_t *m = ww_ner_load(path, err, sizeof err);
    if (!m)
        fprintf(stderr, "wirewatch ner: %s\n", err);
    ww_free(def);
    return m;
}

static ww_ner_corpus_t *read_corpus(const char *path)
{
    char err[512];
    ww_ner_corpus_t *c = ww_ner_corpus_read(path, err, sizeof err);
    if (!c)
        fprintf(stderr, "wirewatch ner: %s\n", err);
    return c;
}

int cmd_ner(int argc, char **argv)
{
    static const struct option opts[] = {
        {"conll", required_argument, NULL, 'C'},   {"eval", required_argument, NULL, 'E'},
        {"train", required_argument, NULL, 'T'},   {"dev", required_argument, NULL, 'D'},
        {"out", required_argument, NULL, 'o'},     {"model", required_argument, NULL, 'm'},
        {"clusters", required_argument, NULL, 'k'}, {"gazetteer", required_argument, NULL, 'g'},
        {"bits", required_argument, NULL, 'b'},    {"epochs", required_argument, NULL, 'e'},
        {"folds", required_argument, NULL, 'f'},   {"seed", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    const char *conll = NULL, *eval = NULL, *train = NULL, *dev = NULL, *out = NULL, *model = NULL;
    ww_ner_train_opts_t to;
    memset(&to, 0, sizeof to);
    to.seed = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'C': conll = optarg; break;
        case 'E': eval = optarg; break;
        case 'T': train = optarg; break;
        case 'D': dev = optarg; break;
        case 'o': out = optarg; break;
        case 'm': model = optarg; break;
        case 'k': to.clusters = optarg; break;
        case 'g': to.gazetteer = optarg; break;
        case 'b': to.bits = (unsigned)atoi(optarg); break;
        case 'e': to.epochs = (unsigned)atoi(optarg); break;
        case 'f': to.folds = (unsigned)atoi(optarg); break;
        case 's': to.seed = strtoull(optarg, NULL, 10); break;
        case 'c': cc.config_path = optarg; break;
        case 'h': ner_usage(stdout); return 0;
        default: ner_usage(stderr); return 2;
        }
    }
    if (optind != argc || (!!conll + !!eval + !!train) != 1 || (train && !out)) {
        ner_usage(stderr);
        return 2;
    }
    if (train) {
        ww_ner_corpus_t *tr = read_corpus(train), *dv = NULL;
        if (!tr)
            return 1;
        if (dev && !(dv = read_corpus(dev))) {
            ww_ner_corpus_free(&tr);
            return 1;
        }
        to.log = stderr;
        char err[512];
        int rc = ww_ner_train(tr, dv, &to, out, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "wirewatch ner: %s\n", err);
        ww_ner_corpus_free(&tr);
        ww_ner_corpus_free(&dv);
        return rc < 0 ? 1 : 0;
    }
    if (cli_load_config(&cc) != 0)
        return 2;
    int rc = 1;
    ww_ner_model_t *m = load_model(model, &cc);
    ww_ner_corpus_t *corp = m ? read_corpus(conll ? conll : eval) : NULL;
    if (corp) {
        if (conll) {
            ww_ner_write_conll(m, corp, stdout);
        } else {
            ww_ner_score_t sc;
            ww_ner_evaluate(m, corp, &sc);
            ww_ner_score_print(&sc, stdout);
        }
        rc = fflush(stdout) == 0 ? 0 : 1;
    }
    ww_ner_corpus_free(&corp);
    ww_ner_free(&m);
    ww_config_free(&cc.cfg);
    return rc;
}
