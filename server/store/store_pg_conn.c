/* The PostgreSQL backend's connection door and binary helpers: a new
 * libpq connection from the dsn (connect_timeout and application_name as
 * defaults the dsn may override; notices kept off stderr) and big-endian
 * int8 parameters and columns. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_pg_int.h"

/* The server's notices (e.g. "terminating connection due to immediate
 * shutdown") are not printed to stderr, whose lines are the daemon's JSON
 * log; what matters arrives as the failing operation's error. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

PGconn *mdg_pg_connect(const char *dsn, char *err, size_t errlen)
{
	/* dsn's own parameters override these defaults (expand_dbname) */
	const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *const vals[] = { "5", "madoguchi", dsn, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c == NULL) {
		snprintf(err, errlen, "postgresql: out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "postgresql: %s", PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	return c;
}

void pg_put_i64(unsigned char out[8], int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)u;
		u >>= 8;
	}
}

int64_t pg_get_i64(const PGresult *r, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
	uint64_t u = 0;

	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	return (int64_t)u;
}

int pg_is_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}
