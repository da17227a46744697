/* fuzz_event_json.c - libFuzzer target of the JSON event decoder (and of the
 * intake dispatcher ww_event_decode_any). Every accepted event must obey the
 * invariants and survive JSON out -> in and pack -> decode with the same key
 * fields. Seeds: tests/fuzz/corpus/event/. */
#include "fuzz_event_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_limits_t lim;
    ww_limits_default(&lim);
    ww_event_t *ev = NULL;
    ww_decode_status_t st;
    if (ww_event_decode_json((const char *)data, size, &lim, &ev, &st) == 0) {
        FZ_CHECK(ev && st.fatal == WW_BAD_NONE);
        fz_check_event(ev);
        fz_json_roundtrip(ev);
        fz_msgpack_roundtrip(ev);
        ww_event_destroy(&ev);
    } else {
        FZ_CHECK(!ev && st.fatal != WW_BAD_NONE && st.fatal < WW_BAD__COUNT);
    }

    if (ww_event_decode_any((const char *)data, size, &lim, &ev, &st) == 0) {
        fz_check_event(ev);
        ww_event_destroy(&ev);
    } else {
        FZ_CHECK(!ev && st.fatal != WW_BAD_NONE);
    }
    return 0;
}
