/* datetime.h - parsing the dates found in feeds and articles.
 *
 * Accepts RFC 822 / RFC 1123 / RFC 2822 dates ("Tue, 10 Jun 2003 04:00:00 GMT")
 * and RFC 3339 / ISO 8601 timestamps ("2003-12-13T18:30:02.25+01:00") with the
 * variants real feeds publish: missing weekday or comma, full month and day
 * names, two-digit years, missing seconds, `Z`/`-0000`/`+05:30`/named US zones
 * and military letters, a space instead of `T`, date-only forms, compact ISO
 * ("20031213T183002Z"), trailing comments ("(PST)"). A date without a zone is
 * taken as UTC. */
#ifndef WW_DATETIME_H
#define WW_DATETIME_H
#include <stdint.h>

/* Parses s (NUL-terminated) into Unix milliseconds. Returns 0 and *ms, or -1
 * when s is not a recognisable date or a field is out of range (month 13,
 * 31 February, hour 25, ...). Never reads past the terminating NUL. */
int ww_datetime_parse(const char *s, int64_t *ms);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t ww_days_from_civil(int64_t y, int m, int d);

/* Formats ms as RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.000Z")
 * into buf (at least 25 bytes). Returns buf. */
char *ww_datetime_format(int64_t ms, char *buf, unsigned long size);

/* Formats ms as RFC 822 ("Wed, 01 May 2024 12:00:00 +0000") into buf (at
 * least 32 bytes). Returns buf. */
char *ww_datetime_format_rfc822(int64_t ms, char *buf, unsigned long size);
#endif
