/* cmd_config.c - `wirewatch config check FILE` and `wirewatch config reference`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_config(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "reference") == 0) {
        ww_config_write_reference(stdout);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "check") == 0) {
        ww_config_t c;
        char err[512];
        if (ww_config_load(&c, argv[2], err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        printf("%s: ok\n", argv[2]);
        ww_config_free(&c);
        return 0;
    }
    fprintf(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
            "Usage: wirewatch config check FILE     validate a configuration file\n"
            "       wirewatch config reference      print every key (Markdown)\n");
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
