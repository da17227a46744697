/* fuzz_html.c - libFuzzer target for HTML to text: any bytes give valid UTF-8
 * text without control characters (except newline) and without blanks at the
 * ends or two blanks in a row. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t = ww_html_to_text((const char *)data, size);
    size_t n = strlen(t);
    bool rep;
    char *c = ww_utf8_repair(t, n, &rep);
    ww_free(c);
    if (rep)
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)t[i];
        if ((ch < 0x20 && ch != '\n') || ((ch == ' ' || ch == '\n') && (i == 0 || i + 1 == n)))
            __builtin_trap();
        if ((ch == ' ' || ch == '\n') && (t[i + 1] == ' ' || t[i + 1] == '\n'))
            __builtin_trap();
    }
    ww_free(t);
    return 0;
}
