/* wirewatch - the command-line client: runs the pipeline, subscribes to
 * alerts, publishes events, manages rules. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/log.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: wirewatch COMMAND [OPTIONS]\n\n"
            "Commands:\n"
            "  up [--demo] [-c FILE] [--extract N] [--alert M]   run the whole pipeline, supervised\n"
            "  subscribe [PREFIX...] [--json] [--since ALERT_ID | --resume NAME] [--count N] [--timeout SEC]\n"
            "  publish [FILE|-] [--format jsonl|text]             send events to ingest's intake\n"
            "  rules check FILE                                   validate a rules file\n"
            "  rules load FILE                                    store rules in Redis (workers switch live)\n"
            "  extract [FILE|-] [--json]                          run the extractor on plain text\n"
            "  stats [--watch [SEC]] [--json]                     the whole pipeline on one screen\n"
            "  keygen [--out PREFIX] [--force]                    write a CurveZMQ key pair\n"
            "  ner --conll FILE | --eval FILE | --train TRAIN --dev DEV --out MODEL   the NER model\n"
            "  config check FILE | config reference               validate a config / print every key\n"
            "  archive ls|cat|verify ARCHIVE... [--from T] [--to T]  list, print (JSON lines) or check archives\n"
            "  archive import FILE.jsonl... --out ARCHIVE          write events into an archive as ingest would\n"
            "  replay ARCHIVE... [--speed X | --max] [--from T] [--to T]  feed archived events back to ingest\n"
            "  console [--listen HOST:PORT]                       serve the live web console\n"
            "  version                                            print the version\n\n"
            "Every command accepts -c FILE (or $WIREWATCH_CONFIG) and --redis URL (or $WIREWATCH_REDIS_URL).\n"
            "Run 'wirewatch COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    ww_log_set_program("wirewatch");
    ww_log_level = WW_LOG_WARN;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"up", cmd_up},       {"subscribe", cmd_subscribe}, {"publish", cmd_publish},
                {"rules", cmd_rules}, {"extract", cmd_extract},     {"stats", cmd_stats}, {"keygen", cmd_keygen},
                {"config", cmd_config},   {"ner", cmd_ner},
                {"archive", cmd_archive}, {"replay", cmd_replay}, {"console", cmd_console}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("wirewatch %s\n", WW_VERSION);
        return 0;
    }
    fprintf(stderr, "wirewatch: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
