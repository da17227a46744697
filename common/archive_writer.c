/* archive_writer.c - appending to the archive: records buffered per batch
 * and written with one write() at commit, the sparse index written as blocks
 * fill, rotation by size and age, the fsync policy (always / every N ms from
 * a background thread / never), and crash recovery of the last segment on
 * open (torn tail truncated, index rebuilt). Format: ww/archive.h. */
#include "ww/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_internal.h"
#include "ww/alloc.h"
#include "ww/log.h"

#define MOD "archive"

struct ww_archive_writer {
    char *dir;
    ww_archive_opts_t o;
    int lockfd, dirfd;
    int fd, ifd;              /* current segment and its index, O_APPEND */
    uint64_t number;          /* current segment number */
    uint64_t size;            /* its logical size, including unwritten wbuf */
    int64_t created;          /* its creation time (Unix ms) */
    char *wbuf;               /* records appended, not yet written */
    size_t wlen, wcap;
    unsigned char *ibuf;      /* index entries not yet written */
    size_t ilen, icap;
    wwa_idx_t blk;            /* the block being filled (blk.off = its start) */
    msgpack_sbuffer sb;       /* reused packing buffer */
    ww_archive_writer_stats_t st;
    /* INTERVAL: the sync thread; mu guards fd against rotation while syncing */
    pthread_t thread;
    bool thread_on, stop;
    int dirty;                /* atomic: written since the last sync */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static int64_t wwa_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ww_archive_opts_default(ww_archive_opts_t *o)
{
    o->segment_bytes = INT64_C(256) << 20;
    o->segment_ms = INT64_C(3600) * 1000;
    o->fsync = WW_ARCHIVE_FSYNC_INTERVAL;
    o->fsync_interval_ms = 100;
}

/* Writes all of buf, retrying short writes and EINTR. Returns 0 or -1 (errno). */
static int wwa_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t r = write(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static char *wwa_seg_path(const ww_archive_writer_t *w, uint64_t number, const char *ext)
{
    return ww_asprintf("%s/seg-%020" PRIu64 "%s", w->dir, number, ext);
}

/* Queues the current block as an index entry (when it holds anything) and
 * starts a new one at w->size. */
static void wwa_close_block(ww_archive_writer_t *w)
{
    if (w->blk.bytes) {
        ww_grow((void **)&w->ibuf, &w->icap, w->ilen + WWA_IDX_ENTRY, 1);
        wwa_idx_entry_build(w->ibuf + w->ilen, &w->blk);
        w->ilen += WWA_IDX_ENTRY;
    }
    memset(&w->blk, 0, sizeof w->blk);
    w->blk.off = w->size;
}

/* Writes buffered records, then buffered index entries. Returns 0 or -1 (logged). */
static int wwa_flush(ww_archive_writer_t *w)
{
    if (w->wlen) {
        if (wwa_write_all(w->fd, w->wbuf, w->wlen) < 0) {
            int e = errno;
            /* cut what part of the batch did get written: the file ends on a
             * whole record, and the batch is retried whole at the next commit */
            if (ftruncate(w->fd, (off_t)(w->size - w->wlen)) < 0)
                ww_warn(MOD, "msg=\"cannot cut a partial write (readers will skip it)\" error=\"%s\"",
                        strerror(errno));
            ww_error(MOD, "msg=\"archive write failed\" dir=%s error=\"%s\"", w->dir, strerror(e));
            return -1;
        }
        w->wlen = 0;
        __atomic_store_n(&w->dirty, 1, __ATOMIC_RELEASE);
    }
    if (w->ilen) {
        if (wwa_write_all(w->ifd, w->ibuf, w->ilen) < 0)
            ww_warn(MOD, "msg=\"index write failed (the index is a hint; readers scan)\" error=\"%s\"",
                    strerror(errno));
        w->ilen = 0;
    }
    return 0;
}

static int wwa_fsync_dir(ww_archive_writer_t *w)
{
    if (w->o.fsync == WW_ARCHIVE_FSYNC_NEVER)
        return 0;
    return fsync(w->dirfd);
}

/* Creates segment `number` (header written, index started) and makes it current. */
static int wwa_create_segment(ww_archive_writer_t *w, uint64_t number)
{
    char *sp = wwa_seg_path(w, number, WWA_SEG_EXT), *ip = wwa_seg_path(w, number, WWA_IDX_EXT);
    int rc = -1;
    int fd = open(sp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    int ifd = fd >= 0 ? open(ip, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644) : -1;
    if (fd < 0 || ifd < 0) {
        ww_error(MOD, "msg=\"cannot create segment\" path=%s error=\"%s\"", fd < 0 ? sp : ip, strerror(errno));
        goto cleanup;
    }
    int64_t now = wwa_now_ms();
    unsigned char h[WWA_HDR], ih[WWA_IDX_HDR];
    wwa_header_build(h, number, now);
    wwa_idx_header_build(ih, number);
    if (wwa_write_all(fd, h, sizeof h) < 0 || wwa_write_all(ifd, ih, sizeof ih) < 0) {
        ww_error(MOD, "msg=\"cannot write segment header\" path=%s error=\"%s\"", sp, strerror(errno));
        goto cleanup;
    }
    if (w->o.fsync != WW_ARCHIVE_FSYNC_NEVER)
        fdatasync(fd);
    wwa_fsync_dir(w);
    w->fd = fd;
    w->ifd = ifd;
    fd = ifd = -1;
    w->number = number;
    w->size = WWA_HDR;
    w->created = now;
    memset(&w->blk, 0, sizeof w->blk);
    w->blk.off = WWA_HDR;
    w->st.segments_created++;
    ww_info(MOD, "msg=\"segment opened\" path=%s", sp);
    rc = 0;
cleanup:
    if (fd >= 0) {
        close(fd);
        unlink(sp);
    }
    if (ifd >= 0)
        close(ifd);
    ww_free(sp);
    ww_free(ip);
    return rc;
}

/* Seals the current segment (last block indexed, synced) and starts the next. */
static int wwa_rotate(ww_archive_writer_t *w)
{
    wwa_close_block(w);
    if (wwa_flush(w) < 0)
        return -1;
    pthread_mutex_lock(&w->mu);
    if (w->o.fsync != WW_ARCHIVE_FSYNC_NEVER) {
        if (fdatasync(w->fd) == 0)
            w->st.syncs++;
        fdatasync(w->ifd);
    }
    close(w->fd);
    close(w->ifd);
    w->fd = w->ifd = -1;
    __atomic_store_n(&w->dirty, 0, __ATOMIC_RELEASE);
    int rc = wwa_create_segment(w, w->number + 1);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int ww_archive_writer_append(ww_archive_writer_t *w, const ww_event_t *ev)
{
    msgpack_sbuffer_clear(&w->sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &w->sb, msgpack_sbuffer_write);
    ww_event_pack(&pk, ev, false);
    if (w->sb.size == 0 || w->sb.size > WWA_REC_MAX) {
        ww_error(MOD, "msg=\"event too large for the archive, not archived\" id=%s bytes=%zu",
                 ev->id ? ev->id : "-", w->sb.size);
        return -1;
    }
    uint32_t len = (uint32_t)w->sb.size;
    size_t rec = WWA_REC_HDR + len;
    if (w->size > WWA_HDR && (w->size + rec > (uint64_t)w->o.segment_bytes ||
                              wwa_now_ms() - w->created >= w->o.segment_ms)) {
        if (wwa_rotate(w) < 0)
            return -1;
    }
    int64_t t = ww_event_time(ev);
    ww_grow((void **)&w->wbuf, &w->wcap, w->wlen + rec, 1);
    wwa_rec_header_build((unsigned char *)w->wbuf + w->wlen, w->sb.data, len, t);
    memcpy(w->wbuf + w->wlen + WWA_REC_HDR, w->sb.data, len);
    w->wlen += rec;
    w->size += rec;
    if (!w->blk.count || t < w->blk.tmin)
        w->blk.tmin = t;
    if (!w->blk.count || t > w->blk.tmax)
        w->blk.tmax = t;
    w->blk.count++;
    w->blk.bytes += (uint32_t)rec;
    w->st.records++;
    w->st.bytes += rec;
    if (w->blk.bytes >= WWA_BLOCK)
        wwa_close_block(w);
    if (w->wlen >= WWA_BUF)
        return wwa_flush(w);
    return 0;
}

int ww_archive_writer_commit(ww_archive_writer_t *w)
{
    if (w->size > WWA_HDR && w->wlen == 0 && wwa_now_ms() - w->created >= w->o.segment_ms) {
        if (wwa_rotate(w) < 0)
            return -1;
    }
    if (wwa_flush(w) < 0)
        return -1;
    if (w->o.fsync == WW_ARCHIVE_FSYNC_ALWAYS && __atomic_exchange_n(&w->dirty, 0, __ATOMIC_ACQ_REL)) {
        if (fdatasync(w->fd) < 0) {
            ww_error(MOD, "msg=\"archive fdatasync failed\" dir=%s error=\"%s\"", w->dir, strerror(errno));
            return -1;
        }
        w->st.syncs++;
    }
    return 0;
}

int ww_archive_writer_sync(ww_archive_writer_t *w)
{
    if (wwa_flush(w) < 0)
        return -1;
    pthread_mutex_lock(&w->mu);
    __atomic_store_n(&w->dirty, 0, __ATOMIC_RELEASE);
    int rc = fdatasync(w->fd);
    if (rc == 0)
        w->st.syncs++;
    pthread_mutex_unlock(&w->mu);
    if (rc < 0)
        ww_error(MOD, "msg=\"archive fdatasync failed\" dir=%s error=\"%s\"", w->dir, strerror(errno));
    return rc;
}

/* INTERVAL policy: fdatasync the current segment every interval when dirty. */
static void *wwa_sync_main(void *arg)
{
    ww_archive_writer_t *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (w->o.fsync_interval_ms % 1000) * 1000000;
        ts.tv_sec += w->o.fsync_interval_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->stop)
            break;
        if (__atomic_exchange_n(&w->dirty, 0, __ATOMIC_ACQ_REL) && w->fd >= 0) {
            if (fdatasync(w->fd) == 0)
                __atomic_add_fetch(&w->st.syncs, 1, __ATOMIC_RELAXED);
            else
                ww_error(MOD, "msg=\"archive fdatasync failed\" error=\"%s\"", strerror(errno));
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Scans the last segment: truncates a torn tail, rebuilds the index, reopens
 * it for appending. Returns 0, 1 when the segment cannot be appended to (bad
 * header: start a new one), or -1 (err). */
static int wwa_recover(ww_archive_writer_t *w, const char *path, ww_archive_recovery_t *rec, char *err,
                       size_t errlen)
{
    wwa_seg_t s;
    if (wwa_seg_open(&s, path, err, errlen) < 0)
        return -1;
    snprintf(rec->segment, sizeof rec->segment, "%s", path);
    int rc = -1;
    int ifd = -1;
    char *ip = wwa_index_path(path), *tmp = ww_asprintf("%s.tmp", ip);
    unsigned char *ib = NULL;
    size_t ilen = 0, icap = 0;
    if (!s.header_ok && s.size >= WWA_HDR) {
        ww_warn(MOD, "msg=\"last segment has a bad header; leaving it for verify and starting a new one\" "
                     "segment=%s", path);
        rc = 1;
        goto cleanup;
    }
    if (!s.header_ok) { /* created, header never completed: start it afresh */
        uint64_t num = s.number;
        wwa_seg_close(&s);
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        unsigned char h[WWA_HDR];
        wwa_header_build(h, num, wwa_now_ms());
        if (fd < 0 || wwa_write_all(fd, h, sizeof h) < 0 || fdatasync(fd) < 0) {
            snprintf(err, errlen, "%s: cannot rewrite header: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            goto cleanup;
        }
        close(fd);
        rec->torn_bytes = 0;
        ww_warn(MOD, "msg=\"recovered a segment whose header was incomplete\" segment=%s", path);
        if (wwa_seg_open(&s, path, err, errlen) < 0)
            goto cleanup;
    }
    wwa_idx_t blk = {WWA_HDR, 0, 0, 0, 0};
    uint64_t good_end = WWA_HDR, torn_at = 0;
    bool torn = false;
    for (;;) {
        wwa_rec_t r;
        wwa_bad_t b;
        int k = wwa_seg_next(&s, &r, &b);
        if (k == 0)
            break;
        if (k < 0) {
            snprintf(err, errlen, "%s: read failed: %s", path, strerror(s.ioerr));
            goto cleanup;
        }
        if (k == 2) {
            if (b.torn) {
                torn = true;
                torn_at = b.off;
                break;
            }
            rec->corrupt++;
            ww_warn(MOD, "msg=\"corrupt region in the last segment (left in place; see archive verify)\" "
                         "segment=%s offset=%" PRIu64 " bytes=%" PRIu64 " reason=\"%s\"",
                    path, b.off, b.len, b.what);
            blk.bytes += (uint32_t)b.len;
            continue;
        }
        rec->records++;
        if (!blk.count || r.time < blk.tmin)
            blk.tmin = r.time;
        if (!blk.count || r.time > blk.tmax)
            blk.tmax = r.time;
        blk.count++;
        blk.bytes += WWA_REC_HDR + r.len;
        good_end = r.off + WWA_REC_HDR + r.len;
        if (blk.bytes >= WWA_BLOCK) {
            ww_grow((void **)&ib, &icap, ilen + WWA_IDX_ENTRY, 1);
            wwa_idx_entry_build(ib + ilen, &blk);
            ilen += WWA_IDX_ENTRY;
            blk = (wwa_idx_t){blk.off + blk.bytes, 0, 0, 0, 0};
        }
    }
    if (torn) {
        rec->torn_bytes = s.size - torn_at;
        if (truncate(path, (off_t)torn_at) < 0) {
            snprintf(err, errlen, "%s: cannot truncate the torn tail: %s", path, strerror(errno));
            goto cleanup;
        }
        ww_warn(MOD, "msg=\"torn tail truncated (an interrupted write; nothing acknowledged is lost)\" "
                     "segment=%s offset=%" PRIu64 " bytes=%" PRIu64,
                path, torn_at, rec->torn_bytes);
        good_end = torn_at;
    }
    (void)good_end;
    if (blk.bytes) {
        ww_grow((void **)&ib, &icap, ilen + WWA_IDX_ENTRY, 1);
        wwa_idx_entry_build(ib + ilen, &blk);
        ilen += WWA_IDX_ENTRY;
    }
    uint64_t end = torn ? torn_at : s.size;
    /* the index, rebuilt (it may be stale after a crash) */
    ifd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    unsigned char ih[WWA_IDX_HDR];
    wwa_idx_header_build(ih, s.number);
    if (ifd < 0 || wwa_write_all(ifd, ih, sizeof ih) < 0 || (ilen && wwa_write_all(ifd, ib, ilen) < 0) ||
        rename(tmp, ip) < 0) {
        snprintf(err, errlen, "%s: cannot rebuild the index: %s", ip, strerror(errno));
        goto cleanup;
    }
    close(ifd);
    ifd = -1;
    w->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    w->ifd = open(ip, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (w->fd < 0 || w->ifd < 0) {
        snprintf(err, errlen, "%s: cannot open for appending: %s", path, strerror(errno));
        goto cleanup;
    }
    if (torn && w->o.fsync != WW_ARCHIVE_FSYNC_NEVER)
        fdatasync(w->fd);
    w->number = s.number;
    w->created = s.created;
    w->size = end;
    memset(&w->blk, 0, sizeof w->blk);
    w->blk.off = end;
    if (rec->torn_bytes == 0)
        ww_info(MOD, "msg=\"archive reopened\" segment=%s records=%" PRIu64, path, rec->records);
    rc = 0;
cleanup:
    if (ifd >= 0) {
        close(ifd);
        unlink(tmp);
    }
    wwa_seg_close(&s);
    ww_free(ib);
    ww_free(ip);
    ww_free(tmp);
    return rc;
}

/* mkdir -p. Returns 0 or -1 (errno). */
static int wwa_mkdirs(const char *dir)
{
    char *p = ww_strdup(dir);
    for (char *q = p + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            ww_free(p);
            return -1;
        }
        *q = '/';
    }
    int rc = mkdir(p, 0755) < 0 && errno != EEXIST ? -1 : 0;
    ww_free(p);
    return rc;
}

ww_archive_writer_t *ww_archive_writer_open(const char *dir, const ww_archive_opts_t *o,
                                            ww_archive_recovery_t *recp, char *err, size_t errlen)
{
    ww_archive_recovery_t rec_local;
    ww_archive_recovery_t *rec = recp ? recp : &rec_local;
    memset(rec, 0, sizeof *rec);
    ww_archive_writer_t *w = ww_calloc(1, sizeof *w);
    w->dir = ww_strdup(dir);
    if (o)
        w->o = *o;
    else
        ww_archive_opts_default(&w->o);
    if (w->o.segment_bytes < (int64_t)(WWA_HDR + WWA_REC_HDR + 1))
        w->o.segment_bytes = WWA_HDR + WWA_REC_HDR + 1;
    if (w->o.segment_ms < 1)
        w->o.segment_ms = 1;
    if (w->o.fsync_interval_ms < 1)
        w->o.fsync_interval_ms = 1;
    w->lockfd = w->dirfd = w->fd = w->ifd = -1;
    msgpack_sbuffer_init(&w->sb);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    char **segs = NULL;
    size_t nseg = 0;
    char *lock = ww_asprintf("%s/LOCK", dir);
    if (wwa_mkdirs(dir) < 0) {
        snprintf(err, errlen, "%s: cannot create the archive directory: %s", dir, strerror(errno));
        goto fail;
    }
    w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    w->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lockfd < 0 || flock(w->lockfd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "%s: %s", lock,
                 errno == EWOULDBLOCK ? "the archive is in use by another writer" : strerror(errno));
        goto fail;
    }
    if (wwa_list(dir, &segs, &nseg, err, errlen) < 0)
        goto fail;
    uint64_t next = 1;
    int rc = 1;
    if (nseg) {
        const char *last = segs[nseg - 1];
        const char *base = strrchr(last, '/');
        next = wwa_name_number(base ? base + 1 : last) + 1;
        rc = wwa_recover(w, last, rec, err, errlen);
        if (rc < 0)
            goto fail;
    }
    if (rc == 1 && wwa_create_segment(w, next) < 0) {
        snprintf(err, errlen, "%s: cannot create a segment: %s", dir, strerror(errno));
        goto fail;
    }
    if (w->o.fsync == WW_ARCHIVE_FSYNC_INTERVAL) {
        if (pthread_create(&w->thread, NULL, wwa_sync_main, w) != 0) {
            snprintf(err, errlen, "cannot start the archive sync thread");
            goto fail;
        }
        w->thread_on = true;
    }
    for (size_t i = 0; i < nseg; i++)
        ww_free(segs[i]);
    ww_free(segs);
    ww_free(lock);
    return w;
fail:
    for (size_t i = 0; i < nseg; i++)
        ww_free(segs[i]);
    ww_free(segs);
    ww_free(lock);
    ww_archive_writer_close(&w);
    return NULL;
}

void ww_archive_writer_close(ww_archive_writer_t **wp)
{
    if (!wp || !*wp)
        return;
    ww_archive_writer_t *w = *wp;
    if (w->thread_on) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    if (w->fd >= 0) {
        wwa_close_block(w);
        wwa_flush(w);
        if (w->o.fsync != WW_ARCHIVE_FSYNC_NEVER) {
            fdatasync(w->fd);
            fdatasync(w->ifd);
        }
        close(w->fd);
    }
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->lockfd >= 0)
        close(w->lockfd); /* releases the flock */
    if (w->dirfd >= 0)
        close(w->dirfd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    msgpack_sbuffer_destroy(&w->sb);
    ww_free(w->wbuf);
    ww_free(w->ibuf);
    ww_free(w->dir);
    ww_free(w);
    *wp = NULL;
}

void ww_archive_writer_stats(const ww_archive_writer_t *w, ww_archive_writer_stats_t *st)
{
    *st = w->st;
    st->syncs = __atomic_load_n(&w->st.syncs, __ATOMIC_RELAXED);
}
