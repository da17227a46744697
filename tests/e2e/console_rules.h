/* console_rules.h - the rules both console tests run the pipeline with (a
 * place with an entity clause, so that the event view has entities to mark,
 * and a phrase). Included by test_console.c and test_console_browser.c. */
#ifndef CONSOLE_RULES_H
#define CONSOLE_RULES_H

static const char *RULES =
    "rules:\n"
    "  - id: volcano\n"
    "    channel: disasters.volcano\n"
    "    severity: high\n"
    "    match: 'volcan* AND entity:LOC:\"Reykjavik\"'\n"
    "  - id: harvest\n"
    "    channel: farming.harvest\n"
    "    severity: low\n"
    "    match: '\"wheat harvest\"'\n";

#endif
