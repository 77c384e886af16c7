/* A small JSON writer: compact JSON written straight into a growing buffer,
 * with no tree. Its output is byte for byte what jansson's
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) gives for the same members
 * in the same order (tests/unit/test_jsonw.c compares the two), including
 * jansson's rules for values it refuses: a string member whose value is
 * NULL or not valid UTF-8 is left out (json_string returns NULL and
 * json_object_set_new sets nothing), as is a real that is not finite. */
#ifndef MDG_JSONW_H
#define MDG_JSONW_H

#include <stddef.h>

#define MDG_JSONW_DEPTH 8

struct mdg_jsonw {
	char *buf;
	size_t len, cap;
	int failed;                              /* out of memory or too deep */
	int depth;                               /* open objects and arrays */
	unsigned char nonempty[MDG_JSONW_DEPTH]; /* per level: a member written */
};

/* Starts an empty writer (the buffer is allocated on first use). */
void mdg_jsonw_init(struct mdg_jsonw *w);

/* { and } of an object (top level or the value of a member, see
 * mdg_jsonw_key_object), [ and ] of an array. */
void mdg_jsonw_open_object(struct mdg_jsonw *w);
void mdg_jsonw_close_object(struct mdg_jsonw *w);
void mdg_jsonw_key_object(struct mdg_jsonw *w, const char *key);
void mdg_jsonw_key_array(struct mdg_jsonw *w, const char *key);
void mdg_jsonw_close_array(struct mdg_jsonw *w);

/* Members. A string member is left out (returns 0) when value is NULL or
 * not UTF-8; 1 when written. */
int mdg_jsonw_str(struct mdg_jsonw *w, const char *key, const char *value);
void mdg_jsonw_int(struct mdg_jsonw *w, const char *key, long long value);
void mdg_jsonw_null(struct mdg_jsonw *w, const char *key);
/* jansson's JSON_REAL_PRECISION(precision) form ("%.*g", always with a
 * '.' or an exponent); left out (0) when not finite. */
int mdg_jsonw_real(struct mdg_jsonw *w, const char *key, double value, int precision);

/* An array element string, left out (0) when NULL or not UTF-8. */
int mdg_jsonw_elem_str(struct mdg_jsonw *w, const char *value);

/* Raw bytes after the value (a line's '\n'); only at the top level. */
void mdg_jsonw_raw(struct mdg_jsonw *w, const char *s, size_t n);

/* The text, NUL-terminated, malloc'd (caller frees), with its length; NULL
 * if anything failed (no memory) or objects are still open. The writer is
 * spent either way. */
char *mdg_jsonw_finish(struct mdg_jsonw *w, size_t *len);

/* Frees an unfinished writer's buffer. */
void mdg_jsonw_discard(struct mdg_jsonw *w);

/* 1 if s[0..n) is valid UTF-8 as jansson checks it (no overlong forms, no
 * surrogates, nothing above U+10FFFF; NUL allowed). */
int mdg_jsonw_utf8_ok(const char *s, size_t n);

#endif
