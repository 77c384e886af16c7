/* Internal to the SQLite store: the acceptance log's read side
 * (store_sqlite_log.c), called through the operations of store.h. */
#ifndef MDG_STORE_SQLITE_LOG_H
#define MDG_STORE_SQLITE_LOG_H

#include <sqlite3.h>

#include "store.h"

enum mdg_store_status mdg_sqlite_log_query(sqlite3 *db, const struct mdg_log_filter *f,
					   int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg);
/* The query mdg_sqlite_log_query makes of a filter that names a receipt id
 * and nothing else but after_seq, limit and with_request (receipt_only 1):
 * prepared once per connection (ST_BY_RECEIPT), run (and reset) by
 * mdg_sqlite_log_run with that filter. */
extern const char mdg_sqlite_log_receipt_sql[];
int mdg_sqlite_log_receipt_only(const struct mdg_log_filter *f);
enum mdg_store_status mdg_sqlite_log_run(sqlite3_stmt *st, const struct mdg_log_filter *f,
					 int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg);
enum mdg_store_status mdg_sqlite_log_head(sqlite3 *db, struct mdg_log_head *out);
enum mdg_store_status mdg_sqlite_export_new(sqlite3 *db, const char *created_at, struct mdg_export_batch *out);
enum mdg_store_status mdg_sqlite_export_get(sqlite3 *db, int64_t id, struct mdg_export_batch *out);
enum mdg_store_status mdg_sqlite_export_complete(sqlite3 *db, int64_t id, const char *completed_at);
enum mdg_store_status mdg_sqlite_log_stats(sqlite3 *db, struct mdg_log_stats *out);

#endif
