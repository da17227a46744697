/* fuzz_datetime.c - libFuzzer target for the date parser: any bytes give 0 or
 * -1, never a crash or UB; an accepted date formats and parses back to itself. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ww/datetime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[160];
    if (size >= sizeof s)
        size = sizeof s - 1;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t ms;
    if (ww_datetime_parse(s, &ms) == 0) {
        char buf[64];
        int64_t back;
        ww_datetime_format(ms, buf, sizeof buf);
        if (ww_datetime_parse(buf, &back) < 0 || back != ms)
            __builtin_trap();
    }
    return 0;
}
