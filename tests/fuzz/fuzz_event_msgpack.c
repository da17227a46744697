/* fuzz_event_msgpack.c - libFuzzer target of the MessagePack event decoder.
 * Decodes the input as one event and as a batch; every accepted event must
 * obey the invariants and survive pack -> decode (and JSON out -> in) with
 * the same key fields. Seeds: tests/fuzz/corpus/event/. */
#include "fuzz_event_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_limits_t lim;
    ww_limits_default(&lim);
    ww_event_t *ev = NULL;
    ww_decode_status_t st;
    if (ww_event_decode_msgpack((const char *)data, size, &lim, &ev, &st) == 0) {
        FZ_CHECK(ev && st.fatal == WW_BAD_NONE);
        fz_check_event(ev);
        fz_msgpack_roundtrip(ev);
        fz_json_roundtrip(ev);
        ww_event_destroy(&ev);
    } else {
        FZ_CHECK(!ev && st.fatal != WW_BAD_NONE && st.fatal < WW_BAD__COUNT);
    }

    ww_event_t **evs = NULL;
    uint64_t bad[WW_BAD__COUNT] = {0};
    long n = ww_event_decode_batch((const char *)data, size, &lim, &evs, bad);
    FZ_CHECK(n >= -1);
    FZ_CHECK(bad[WW_BAD_NONE] == 0);
    for (long i = 0; i < n; i++) {
        fz_check_event(evs[i]);
        fz_msgpack_roundtrip(evs[i]);
        ww_event_destroy(&evs[i]);
    }
    ww_free(evs);
    return 0;
}
