/* archive_internal.h - what the archive's .c files share: the on-disk
 * constants and the segment scanner (common/archive.c). Not a public API. */
#ifndef WW_ARCHIVE_INTERNAL_H
#define WW_ARCHIVE_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WWA_SEG_MAGIC     "WWARSEG"         /* + NUL: 8 bytes */
#define WWA_IDX_MAGIC     "WWIDX\0\0\1"     /* 8 bytes */
#define WWA_REC_MAGIC     "WWR1"            /* 4 bytes */
#define WWA_VERSION       1
#define WWA_HDR           32u               /* segment header bytes */
#define WWA_REC_HDR       20u               /* record header bytes */
#define WWA_REC_MAX       (64u << 20)       /* largest payload */
#define WWA_IDX_HDR       16u
#define WWA_IDX_ENTRY     40u
#define WWA_BLOCK         (256u << 10)      /* index granularity */
#define WWA_BUF           (1u << 20)        /* scanner read buffer */
#define WWA_SEG_EXT       ".wwa"
#define WWA_IDX_EXT       ".wwi"

/* One index entry: a run of whole records (and any corrupt bytes between). */
typedef struct {
    uint64_t off;       /* first byte */
    uint32_t bytes;     /* length of the run */
    uint32_t count;     /* valid records in it */
    int64_t tmin, tmax; /* event time range of those records */
} wwa_idx_t;

/* A segment open for sequential reading through a private buffer (pread, so
 * a concurrent truncation can never fault us the way mmap would). */
typedef struct {
    int fd;
    char *path;          /* owned */
    uint64_t size;       /* file size when opened: records past it are not read */
    uint64_t number;     /* from the header (or the file name when the header is bad) */
    int64_t created;     /* from the header */
    bool header_ok;      /* header magic, version and CRC are right */
    char *buf;           /* holds file bytes [boff, boff + blen) */
    size_t cap, blen;
    uint64_t boff;
    uint64_t pos;        /* offset of the next record */
    int ioerr;           /* errno of a failed read, 0 */
    wwa_idx_t *idx;      /* loaded index entries (owned), may be NULL */
    size_t nidx, bi;     /* count; first entry not entirely behind pos */
} wwa_seg_t;

/* A valid record; payload borrowed until the next scanner call. */
typedef struct {
    uint64_t off;
    uint32_t len;
    int64_t time;
    const char *payload;
} wwa_rec_t;

/* A corrupt region [off, off + len). */
typedef struct {
    uint64_t off, len;
    const char *what; /* static text */
    bool torn;        /* reaches the end of the file: an interrupted write */
} wwa_bad_t;

/* Opens a segment. Returns 0, or -1 with err (cannot open/stat). A bad or
 * short header is not an error: header_ok is false and scanning resyncs. */
int wwa_seg_open(wwa_seg_t *s, const char *path, char *err, size_t errlen);
/* Next record: 1 (*rec), 2 (a corrupt region in *bad, skipped), 0 at end, -1 I/O error. */
int wwa_seg_next(wwa_seg_t *s, wwa_rec_t *rec, wwa_bad_t *bad);
/* Loads the sibling index; keeps the valid contiguous prefix. Returns entries. */
size_t wwa_seg_load_index(wwa_seg_t *s);
/* Jumps over indexed blocks at pos whose time range misses [from, to);
 * returns the bytes skipped. */
uint64_t wwa_seg_skip(wwa_seg_t *s, int64_t from, int64_t to);
void wwa_seg_close(wwa_seg_t *s);

/* Index path of a segment path (".wwa" -> ".wwi"). Caller owns. */
char *wwa_index_path(const char *segpath);
/* Segment file paths of an archive (a directory, or one file), sorted.
 * Returns 0 (*paths caller-owned, each too) or -1 with err. */
int wwa_list(const char *path, char ***paths, size_t *n, char *err, size_t errlen);
/* Number from a "seg-NNNNNNNNNNNNNNNNNNNN.wwa" base name, 0 if it is not one. */
uint64_t wwa_name_number(const char *name);

void wwa_header_build(unsigned char out[WWA_HDR], uint64_t number, int64_t created);
void wwa_idx_header_build(unsigned char out[WWA_IDX_HDR], uint64_t number);
void wwa_idx_entry_build(unsigned char out[WWA_IDX_ENTRY], const wwa_idx_t *e);
void wwa_rec_header_build(unsigned char out[WWA_REC_HDR], const void *payload, uint32_t len,
                          int64_t time);

static inline void wwa_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void wwa_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t wwa_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wwa_get64(const unsigned char *p)
{
    return (uint64_t)wwa_get32(p) | (uint64_t)wwa_get32(p + 4) << 32;
}

#endif
