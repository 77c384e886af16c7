/* RFC 3339 in +09:00 and Japanese era dates, computed with calendar
 * arithmetic (Howard Hinnant's days_from_civil / civil_from_days) so that
 * nothing depends on the process's TZ or the C library's time zone data. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

static int is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long long y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && is_leap(y))
		return 29;
	return mdays[m - 1];
}

int mdg_date_is_valid(int year, int month, int day)
{
	if (month < 1 || month > 12)
		return 0;
	if (day < 1 || day > days_in_month(year, month))
		return 0;
	return 1;
}

long long mdg_days_from_civil(int year, int month, int day)
{
	long long y = (long long)year - (month <= 2);
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;                         /* [0, 399] */
	long long mp = (month + 9) % 12;                       /* March = 0 */
	long long doy = (153 * mp + 2) / 5 + day - 1;          /* [0, 365] */
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */

	return era * 146097 + doe - 719468;
}

int mdg_asn1_time_to_unix(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;
	long long days;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	days = mdg_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	*out = (time_t)(days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	return 0;
}

static void civil_from_days(long long z, long long *year, int *month, int *day)
{
	long long era, doe, yoe, doy, mp, y;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = y + (*month <= 2);
}

/* Splits t (shifted to JST) into days since the epoch and seconds of day. */
static void jst_split(time_t t, long long *days, long long *secs)
{
	long long s = (long long)t + MDG_JST_OFFSET;
	long long d = s / 86400;
	long long r = s % 86400;

	if (r < 0) {
		r += 86400;
		d--;
	}
	*days = d;
	*secs = r;
}

/* Years are clamped to 0..9999 so the output always fits its buffer. */
static int clamp_year(long long y)
{
	if (y < 0)
		return 0;
	if (y > 9999)
		return 9999;
	return (int)y;
}

/* Writes v (0 <= v < 10^width) as width decimal digits; returns the end. */
static char *put_digits(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

static char *put_date(char *p, int y, int m, int d)
{
	p = put_digits(p, y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	return put_digits(p, d, 2);
}

void mdg_rfc3339_jst(time_t t, char out[MDG_RFC3339_LEN])
{
	static const char zone[] = "+09:00";
	long long days, secs, y;
	int m, d;
	char *p;

	jst_split(t, &days, &secs);
	civil_from_days(days, &y, &m, &d);
	p = put_date(out, clamp_year(y), m, d);
	*p++ = 'T';
	p = put_digits(p, (int)(secs / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (int)(secs / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (int)(secs % 60), 2);
	memcpy(p, zone, sizeof(zone));
}

void mdg_jst_date(time_t t, char out[11], int *year, int *month, int *day)
{
	long long days, secs, y;
	int m, d;

	jst_split(t, &days, &secs);
	civil_from_days(days, &y, &m, &d);
	*put_date(out, clamp_year(y), m, d) = '\0';
	if (year != NULL)
		*year = clamp_year(y);
	if (month != NULL)
		*month = m;
	if (day != NULL)
		*day = d;
}

/* Reads exactly n decimal digits. */
static int digits(const char **sp, int n, int *out)
{
	const char *s = *sp;
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*out = v;
	return 0;
}

static int expect(const char **sp, char c)
{
	if (**sp != c)
		return -1;
	(*sp)++;
	return 0;
}

int mdg_rfc3339_parse(const char *s, time_t *t)
{
	int year, month, day, hour, min, sec, oh = 0, om = 0, sign = 0;
	long long v;

	if (s == NULL || t == NULL)
		return -1;
	if (digits(&s, 4, &year) == -1 || expect(&s, '-') == -1 || digits(&s, 2, &month) == -1 ||
	    expect(&s, '-') == -1 || digits(&s, 2, &day) == -1)
		return -1;
	if (*s != 'T' && *s != 't')
		return -1;
	s++;
	if (digits(&s, 2, &hour) == -1 || expect(&s, ':') == -1 || digits(&s, 2, &min) == -1 || expect(&s, ':') == -1 ||
	    digits(&s, 2, &sec) == -1)
		return -1;
	if (*s == '.') {
		/* time-secfrac = "." 1*DIGIT; truncated to whole seconds */
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		s++;
		if (digits(&s, 2, &oh) == -1 || expect(&s, ':') == -1 || digits(&s, 2, &om) == -1)
			return -1;
	} else
		return -1;
	if (*s != '\0')
		return -1;

	/* Leap seconds (second 60) are refused: time_t cannot hold them. */
	if (!mdg_date_is_valid(year, month, day) || hour > 23 || min > 59 || sec > 59 || oh > 23 || om > 59)
		return -1;

	v = mdg_days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec - sign * (oh * 3600 + om * 60);
	if ((long long)(time_t)v != v)
		return -1;
	*t = (time_t)v;
	return 0;
}

static const struct era {
	const char *name;
	int y, m, d; /* first day (Gregorian) */
} eras[] = {
	/* newest first */
	{ "令和", 2019, 5, 1 },  { "平成", 1989, 1, 8 }, { "昭和", 1926, 12, 25 },
	{ "大正", 1912, 7, 30 }, { "明治", 1868, 1, 1 },
};

/* Japan adopted the Gregorian calendar on 明治6年1月1日. */
#define WAREKI_FIRST_Y 1873

static int date_cmp(int y1, int m1, int d1, int y2, int m2, int d2)
{
	if (y1 != y2)
		return y1 < y2 ? -1 : 1;
	if (m1 != m2)
		return m1 < m2 ? -1 : 1;
	if (d1 != d2)
		return d1 < d2 ? -1 : 1;
	return 0;
}

int mdg_wareki_format(int year, int month, int day, char *out, size_t outlen)
{
	const struct era *e = NULL;
	char ybuf[16];
	int n, len;

	if (out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	if (!mdg_date_is_valid(year, month, day) || year < WAREKI_FIRST_Y)
		return -1;
	for (size_t i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		if (date_cmp(year, month, day, eras[i].y, eras[i].m, eras[i].d) >= 0) {
			e = &eras[i];
			break;
		}
	}
	if (e == NULL)
		return -1;
	n = year - e->y + 1;
	if (n == 1)
		snprintf(ybuf, sizeof(ybuf), "元");
	else
		snprintf(ybuf, sizeof(ybuf), "%d", n);
	len = snprintf(out, outlen, "%s%s年%02d月%02d日", e->name, ybuf, month, day);
	if (len < 0 || (size_t)len >= outlen) {
		out[0] = '\0';
		return -1;
	}
	return len;
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int mdg_log_time_arg(const char *s, int is_until, int64_t *out)
{
	char buf[64];
	size_t n;
	time_t t;
	int y, m, d;

	if (s == NULL || (n = strlen(s)) >= sizeof(buf) - 10)
		return -1;
	if (n == 10) {
		if (!all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' || !all_digits(s + 8, 2))
			return -1;
		y = atoi(s);
		m = atoi(s + 5);
		d = atoi(s + 8);
		if (!mdg_date_is_valid(y, m, d))
			return -1;
		*out = (int64_t)(mdg_days_from_civil(y, m, d) + (is_until ? 1 : 0)) * 86400 - MDG_JST_OFFSET;
		return 0;
	}
	memcpy(buf, s, n + 1);
	if (n >= 11 && buf[10] == ' ')
		buf[10] = 'T';
	/* a date-time without offset is JST */
	if (n == 16)
		memcpy(buf + n, ":00+09:00", 10);
	else if (n == 19)
		memcpy(buf + n, "+09:00", 7);
	if (mdg_rfc3339_parse(buf, &t) == -1)
		return -1;
	*out = (int64_t)t + (is_until ? 1 : 0);
	return 0;
}
