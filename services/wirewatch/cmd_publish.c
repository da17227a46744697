/* cmd_publish.c - `wirewatch publish`: sends events to ingest's intake.
 * jsonl: one JSON object per line (checked here first, so a bad line is
 * reported with its number and skipped); text: the whole input is one article,
 * first line the title, the rest the body. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/feed.h"
#include "ww/fileutil.h"
#include "ww/zmqutil.h"

static void pub_usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch publish [FILE|-] [--format jsonl|text|rss|atom] [-c FILE]\n"
               "Sends events to the intake endpoint (ingest.intake). FILE defaults to standard input.\n"
               "  jsonl  one JSON event object per line (SPEC keys: title, body, url, source, ...)\n"
               "  text   the whole input is one article: first line the title, the rest the body\n"
               "  rss, atom  a feed document (RSS 0.9x-2.0, RSS 1.0 or Atom: either name reads all three);\n"
               "         every item is one event, source = FILE\n");
}

int cmd_publish(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"redis", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    const char *format = "jsonl";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'c': cc.config_path = optarg; break;
        case 'r': cc.redis_url = optarg; break;
        case 'h': pub_usage(stdout); return 0;
        default: pub_usage(stderr); return 2;
        }
    }
    if (argc - optind > 1) {
        pub_usage(stderr);
        return 2;
    }
    bool is_feed = strcmp(format, "rss") == 0 || strcmp(format, "atom") == 0;
    if (strcmp(format, "jsonl") != 0 && strcmp(format, "text") != 0 && !is_feed) {
        fprintf(stderr, "wirewatch publish: unknown --format '%s' (jsonl|text|rss|atom)\n", format);
        return 2;
    }
    const char *path = optind < argc ? argv[optind] : "-";
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    if (cli_load_config(&cc) != 0) {
        if (f != stdin)
            fclose(f);
        return 2;
    }
    void *zctx = zmq_ctx_new();
    void *push = ww_zmq_socket(zctx, ZMQ_PUSH, 0, 10000, 10000);
    int rc = 1;
    long sent = 0, skipped = 0, lineno = 0;
    if (ww_zmq_connect(push, cc.cfg.ingest.intake) < 0)
        goto out;
    ww_limits_t lim;
    ww_limits_default(&lim);
    lim.max_bytes = (size_t)cc.cfg.max_message_bytes;
    if (strcmp(format, "jsonl") == 0) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            if (n == 0)
                continue;
            ww_event_t *ev = NULL;
            ww_decode_status_t st;
            memset(&st, 0, sizeof st);
            if (ww_event_decode_json(line, (size_t)n, &lim, &ev, &st) < 0) {
                fprintf(stderr, "%s:%ld: skipped: %s (%s)\n", path, lineno, ww_bad_name(st.fatal), st.detail);
                skipped++;
                continue;
            }
            ww_event_destroy(&ev);
            if (zmq_send(push, line, (size_t)n, 0) >= 0)
                sent++;
        }
        free(line);
    } else if (is_feed) {
        size_t len;
        char *all = ww_stream_read(f, &len);
        ww_feed_t *feed = NULL;
        char err[200];
        const char *src = strcmp(path, "-") == 0 ? "stdin" : path;
        if (ww_feed_parse(all, len, NULL, NULL, &feed, err, sizeof err) < 0) {
            fprintf(stderr, "%s: not a feed: %s\n", path, err);
            skipped++;
        } else {
            if (feed->recovered)
                fprintf(stderr, "%s: warning: not well-formed (%u repairs); recovered %zu items\n", path,
                        feed->n_repairs, feed->n_items);
            msgpack_sbuffer sb;
            msgpack_sbuffer_init(&sb);
            for (size_t k = feed->n_items; k-- > 0;) { /* oldest first */
                ww_event_t *ev = ww_feed_item_to_event(feed, &feed->items[k], src);
                if (!ev) {
                    skipped++;
                    continue;
                }
                msgpack_sbuffer_clear(&sb);
                msgpack_packer pk;
                msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                ww_event_pack(&pk, ev, false);
                if (zmq_send(push, sb.data, sb.size, 0) >= 0)
                    sent++;
                ww_event_destroy(&ev);
            }
            msgpack_sbuffer_destroy(&sb);
            ww_feed_destroy(&feed);
        }
        ww_free(all);
    } else {
        size_t len;
        char *all = ww_stream_read(f, &len);
        char *nl = strchr(all, '\n');
        ww_event_t *ev = ww_event_new();
        ev->title = nl ? ww_strndup(all, (size_t)(nl - all)) : ww_strdup(all);
        ev->body = ww_strdup(nl ? nl + 1 : "");
        ev->source = ww_strdup(strcmp(path, "-") == 0 ? "stdin" : path);
        ww_free(all);
        ww_event_sanitize(ev);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        ww_event_pack(&pk, ev, false);
        if (zmq_send(push, sb.data, sb.size, 0) >= 0)
            sent++;
        msgpack_sbuffer_destroy(&sb);
        ww_event_destroy(&ev);
    }
    fprintf(stderr, "wirewatch publish: %ld events sent to %s", sent, cc.cfg.ingest.intake);
    if (skipped)
        fprintf(stderr, ", %ld lines skipped", skipped);
    fprintf(stderr, "\n");
    rc = skipped ? 1 : 0;
out:
    if (f != stdin)
        fclose(f);
    zmq_close(push); /* waits up to 10 s (linger) for delivery */
    zmq_ctx_term(zctx);
    ww_config_free(&cc.cfg);
    return rc;
}
