/* Times as the window writes them: RFC 3339 with seconds in +09:00 (JST),
 * and Japanese era dates (wareki) as the manual's notices print them. */
#ifndef MDG_TIMEFMT_H
#define MDG_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/asn1.h>

#define MDG_JST_OFFSET (9 * 3600)
#define MDG_RFC3339_LEN 26 /* "2026-11-27T10:00:00+09:00" + NUL */

/* Writes t as "YYYY-MM-DDTHH:MM:SS+09:00". */
void mdg_rfc3339_jst(time_t t, char out[MDG_RFC3339_LEN]);

/* The JST calendar date of t as "YYYY-MM-DD" (11 bytes with NUL) and its
 * parts. */
void mdg_jst_date(time_t t, char out[11], int *year, int *month, int *day);

/* Parses RFC 3339 ("2026-11-27T10:00:00+09:00", "...Z", fractional seconds
 * allowed) into *t. Returns 0 on success, -1 if malformed. */
int mdg_rfc3339_parse(const char *s, time_t *t);

/* Gregorian date -> "令和8年11月27日" (year 1 as 元年, month and day two
 * digits, as in 平成16年02月29日). Dates before 1873-01-01 (when Japan took
 * the Gregorian calendar) or invalid dates return -1. Returns the length
 * written (excluding NUL) or -1 if it does not fit or the date is invalid. */
int mdg_wareki_format(int year, int month, int day, char *out, size_t outlen);

/* Days since 1970-01-01 of a proleptic Gregorian date (for time arithmetic
 * without the C library's time zone). */
long long mdg_days_from_civil(int year, int month, int day);

/* An ASN.1 UTCTime or GeneralizedTime (certificates, CRLs) as Unix
 * seconds, by mdg_days_from_civil (no time zone involved). 0, or -1 if t
 * is NULL or does not read. The one converter. */
int mdg_asn1_time_to_unix(const ASN1_TIME *t, time_t *out);

/* Validates a Gregorian date (month 1..12, day within the month). */
int mdg_date_is_valid(int year, int month, int day);

/* A --since / --until value as Unix seconds: "YYYY-MM-DD" is that JST day
 * (since: its first second; until: the first second of the next day, so the
 * whole day is included), RFC 3339 is that instant, and a date-time without
 * offset ("YYYY-MM-DDTHH:MM[:SS]", 'T' or ' ') is JST. until is an
 * exclusive bound: an RFC 3339 until includes its own second. 0 or -1. */
int mdg_log_time_arg(const char *s, int is_until, int64_t *out);

#endif
