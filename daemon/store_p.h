/* Private to the modules that own tables: the shared SQLite handle. */
#ifndef STORE_P_H
#define STORE_P_H

#include <sqlite3.h>

#include "store.h"

/* A prepared statement for a static SQL string, cached per handle and reset;
 * borrowed until store_close.  NULL on a prepare error (see store_errmsg). */
sqlite3_stmt *store_stmt(struct store *, const char *sql);
/* Map a SQLite result code to a status. */
enum mg_status store_status(int rc);
/* Bind helpers: a NULL string binds NULL, a 0 id binds NULL. */
void store_bind_text(sqlite3_stmt *, int col, const char *);
void store_bind_id(sqlite3_stmt *, int col, int64_t);
/* Step a statement expected to finish (no rows); resets it. */
enum mg_status store_exec(sqlite3_stmt *);
/* Copy of a text column (NULL for SQL NULL); caller frees. */
char *store_col_text(sqlite3_stmt *, int col);

#endif
