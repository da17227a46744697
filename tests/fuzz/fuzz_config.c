/* fuzz_config.c - libFuzzer target for the YAML configuration loader: any
 * bytes must give 0 or -1 with a message, never a crash, a leak or UB. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ww/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_config_t c;
    char err[256];
    int rc = ww_config_load_buffer(&c, (const char *)data, size, "fuzz.yaml", err, sizeof err);
    if (rc < 0 && strncmp(err, "fuzz.yaml:", 10) != 0)
        __builtin_trap(); /* every error names file and line */
    ww_config_free(&c);
    return 0;
}
