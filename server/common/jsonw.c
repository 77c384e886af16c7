#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mdg_jsonw_init(struct mdg_jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void mdg_jsonw_discard(struct mdg_jsonw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
	w->failed = 1;
}

/* room for extra more bytes and a NUL */
static int reserve(struct mdg_jsonw *w, size_t extra)
{
	if (w->failed)
		return -1;
	if (extra > ((size_t)-1) / 4 - w->len) {
		w->failed = 1;
		return -1;
	}
	if (w->len + extra + 1 <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap * 2 : 1024;
	while (cap < w->len + extra + 1)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (b == NULL) {
		w->failed = 1;
		return -1;
	}
	w->buf = b;
	w->cap = cap;
	return 0;
}

static void put(struct mdg_jsonw *w, const char *s, size_t n)
{
	if (reserve(w, n) == 0) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

/* The length of the valid UTF-8 sequence of more than one byte at p (the
 * string is NUL-terminated, so a NUL ends it as a bad continuation), 0 if
 * it is not one: the rules of jansson's utf8.c. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0];

#define CONT(b) (((b)&0xC0) == 0x80)
	if (c >= 0xC2 && c <= 0xDF)
		return CONT(p[1]) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (!CONT(p[1]) || !CONT(p[2]))
			return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
			return 0; /* overlong; a surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (!CONT(p[1]) || !CONT(p[2]) || !CONT(p[3]))
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
			return 0; /* overlong; above U+10FFFF */
		return 4;
	}
#undef CONT
	return 0;
}

int mdg_jsonw_utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		/* utf8_seq reads up to 4 bytes: copy a short tail with a NUL after */
		unsigned char tail[5] = { 0 };
		const unsigned char *q = p;
		if (end - p < 4) {
			memcpy(tail, p, (size_t)(end - p));
			q = tail;
		}
		size_t k = utf8_seq(q);
		if (k == 0 || k > (size_t)(end - p))
			return 0;
		p += k;
	}
	return 1;
}

/* The string quoted and escaped as jansson's dump_string does (\" \\ \b \f
 * \n \r \t, other controls \u00XX in capitals, '/' and non-ASCII as they
 * are); -1 (nothing kept) if s is not UTF-8. */
static int put_string(struct mdg_jsonw *w, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);

	if (reserve(w, 6 * n + 2) != 0)
		return -1;
	char *d = w->buf + w->len;
	const unsigned char *p = (const unsigned char *)s;
	*d++ = '"';
	while (*p) {
		unsigned char c = *p;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*d++ = (char)c;
			p++;
			continue;
		}
		if (c < 0x80) {
			*d++ = '\\';
			switch (c) {
			case '"':
			case '\\':
				*d++ = (char)c;
				break;
			case '\b':
				*d++ = 'b';
				break;
			case '\f':
				*d++ = 'f';
				break;
			case '\n':
				*d++ = 'n';
				break;
			case '\r':
				*d++ = 'r';
				break;
			case '\t':
				*d++ = 't';
				break;
			default:
				*d++ = 'u';
				*d++ = '0';
				*d++ = '0';
				*d++ = hex[c >> 4];
				*d++ = hex[c & 15];
			}
			p++;
			continue;
		}
		size_t k = utf8_seq(p);
		if (k == 0)
			return -1;
		memcpy(d, p, k);
		d += k;
		p += k;
	}
	*d++ = '"';
	w->len = (size_t)(d - w->buf);
	return 0;
}

/* the comma before a member or element, and the level marked nonempty */
static void separate(struct mdg_jsonw *w)
{
	if (w->depth > 0) {
		if (w->nonempty[w->depth - 1])
			put(w, ",", 1);
		w->nonempty[w->depth - 1] = 1;
	}
}

/* starts a member: separator, key, colon */
static void member(struct mdg_jsonw *w, const char *key)
{
	separate(w);
	if (put_string(w, key) != 0)
		w->failed = 1; /* our own keys are UTF-8 */
	put(w, ":", 1);
}

static void open_level(struct mdg_jsonw *w, char c)
{
	if (w->depth >= MDG_JSONW_DEPTH) {
		w->failed = 1;
		return;
	}
	put(w, &c, 1);
	w->nonempty[w->depth++] = 0;
}

static void close_level(struct mdg_jsonw *w, char c)
{
	if (w->depth == 0) {
		w->failed = 1;
		return;
	}
	w->depth--;
	put(w, &c, 1);
}

void mdg_jsonw_open_object(struct mdg_jsonw *w)
{
	separate(w);
	open_level(w, '{');
}

void mdg_jsonw_close_object(struct mdg_jsonw *w)
{
	close_level(w, '}');
}

void mdg_jsonw_key_object(struct mdg_jsonw *w, const char *key)
{
	member(w, key);
	open_level(w, '{');
}

void mdg_jsonw_key_array(struct mdg_jsonw *w, const char *key)
{
	member(w, key);
	open_level(w, '[');
}

void mdg_jsonw_close_array(struct mdg_jsonw *w)
{
	close_level(w, ']');
}

int mdg_jsonw_str(struct mdg_jsonw *w, const char *key, const char *value)
{
	if (value == NULL || w->failed || w->depth == 0)
		return 0;
	size_t mark = w->len;
	unsigned char was = w->nonempty[w->depth - 1];
	member(w, key);
	if (put_string(w, value) != 0) {
		/* what jansson does with a string it refuses: no member */
		if (!w->failed) {
			w->len = mark;
			w->nonempty[w->depth - 1] = was;
		}
		return 0;
	}
	return 1;
}

int mdg_jsonw_elem_str(struct mdg_jsonw *w, const char *value)
{
	if (value == NULL || w->failed || w->depth == 0)
		return 0;
	size_t mark = w->len;
	unsigned char was = w->nonempty[w->depth - 1];
	separate(w);
	if (put_string(w, value) != 0) {
		if (!w->failed) {
			w->len = mark;
			w->nonempty[w->depth - 1] = was;
		}
		return 0;
	}
	return 1;
}

void mdg_jsonw_int(struct mdg_jsonw *w, const char *key, long long value)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%lld", value);

	member(w, key);
	put(w, t, (size_t)n);
}

void mdg_jsonw_null(struct mdg_jsonw *w, const char *key)
{
	member(w, key);
	put(w, "null", 4);
}

/* jansson's jsonp_dtostr: "%.*g", the locale's decimal point as '.', ".0"
 * added when there is neither a '.' nor an 'e', the exponent's '+' and
 * leading zeros dropped */
int mdg_jsonw_real(struct mdg_jsonw *w, const char *key, double value, int precision)
{
	char t[100];

	if (!isfinite(value))
		return 0;
	if (precision == 0)
		precision = 17;
	int r = snprintf(t, sizeof(t), "%.*g", precision, value);
	if (r < 0 || (size_t)r >= sizeof(t) - 3) {
		w->failed = 1;
		return 0;
	}
	size_t n = (size_t)r;
	for (size_t i = 0; i < n; i++)
		if (t[i] == ',')
			t[i] = '.';
	if (strchr(t, '.') == NULL && strchr(t, 'e') == NULL) {
		t[n++] = '.';
		t[n++] = '0';
		t[n] = '\0';
	}
	char *start = strchr(t, 'e');
	if (start != NULL) {
		start++;
		char *end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, n - (size_t)(end - t) + 1);
			n -= (size_t)(end - start);
		}
	}
	member(w, key);
	put(w, t, n);
	return 1;
}

void mdg_jsonw_raw(struct mdg_jsonw *w, const char *s, size_t n)
{
	if (w->depth != 0) {
		w->failed = 1;
		return;
	}
	put(w, s, n);
}

char *mdg_jsonw_finish(struct mdg_jsonw *w, size_t *len)
{
	if (w->depth != 0 || reserve(w, 0) != 0) {
		mdg_jsonw_discard(w);
		return NULL;
	}
	char *text = w->buf;
	text[w->len] = '\0';
	if (len != NULL)
		*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	w->failed = 1;
	return text;
}
