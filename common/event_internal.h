/* event_internal.h - private to common/event.c and common/codec.c: the block
 * an event's enrichment lives in when it was decoded from a trusted batch
 * (ww_event_t.enrich_block, see event.h). */
#ifndef WW_EVENT_INTERNAL_H
#define WW_EVENT_INTERNAL_H
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "ww/event.h"

/* One chunk of an event's enrichment block; chunks form a list, newest first. */
struct ww_event_block {
    struct ww_event_block *next; /* the previous (full) chunk, or NULL */
    size_t size;                 /* bytes in data */
    size_t used;                 /* bytes handed out from data */
    alignas(16) unsigned char data[];
};

/* ww_event_block_alloc when the newest chunk lacks room: adds a chunk. */
void *ww_event_block_grow(ww_event_t *ev, size_t n);

/* Returns n bytes (aligned to `align`, a power of two <= 16) from ev's block,
 * creating or extending it (a chain of chunks, each at least twice the last).
 * Never NULL (out of memory aborts). Freed only with the whole block. */
static inline void *ww_event_block_alloc(ww_event_t *ev, size_t n, size_t align)
{
    struct ww_event_block *b = ev->enrich_block;
    if (b) {
        size_t at = (b->used + align - 1) & ~(align - 1);
        if (at <= b->size && b->size - at >= n) {
            b->used = at + n;
            return b->data + at;
        }
    }
    return ww_event_block_grow(ev, n);
}

/* Starts ev's block with a first chunk of at least n bytes, when it has none
 * yet (a size hint: the decoder knows the list lengths). */
static inline void ww_event_block_reserve(ww_event_t *ev, size_t n)
{
    if (!ev->enrich_block) {
        ww_event_block_grow(ev, n);
        ev->enrich_block->used = 0;
    }
}

/* A NUL-terminated copy of s[0..n) in ev's block. */
static inline char *ww_event_block_strndup(ww_event_t *ev, const char *s, size_t n)
{
    char *d = ww_event_block_alloc(ev, n + 1, 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

#endif
