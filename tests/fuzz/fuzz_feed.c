/* fuzz_feed.c - libFuzzer target for the feed parser: any bytes give a feed
 * or an error message, never a crash, a hang, a leak or UB; every string that
 * comes out is valid UTF-8 and every item has an id. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const char *s)
{
    if (!s)
        return;
    bool rep;
    char *c = ww_utf8_repair(s, strlen(s), &rep);
    ww_free(c);
    if (rep)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_feed_t *f = NULL;
    char err[200];
    if (ww_feed_parse((const char *)data, size, "http://fuzz.example/feed.xml", NULL, &f, err, sizeof err) < 0) {
        if (!err[0] || f)
            __builtin_trap();
        return 0;
    }
    check_utf8(f->title);
    for (size_t i = 0; i < f->n_items; i++) {
        const ww_feed_item_t *it = &f->items[i];
        if (!it->id)
            __builtin_trap();
        check_utf8(it->id);
        check_utf8(it->title);
        check_utf8(it->link);
        check_utf8(it->summary);
        check_utf8(it->content);
        ww_event_t *ev = ww_feed_item_to_event(f, it, "fuzz");
        ww_event_destroy(&ev);
    }
    ww_feed_destroy(&f);
    return 0;
}
