/* sql.h: what the store's files share and nothing else includes: the SQLite helpers (errors said in words
 * and kept in s->err, statements prepared, stepped and read),
 * the callback sql_each_row's row functions get, and the names the store writes and reads alike. */
#ifndef VGPUBENCH_STORE_SQL_H
#define VGPUBENCH_STORE_SQL_H

#include <sqlite3.h>
#include <stddef.h>

#include "store/store.h"

/* How long a statement waits for another process's lock before it fails with that said. */
#define BUSY_MS 10000

/* A caller's callback and its context, for sql_each_row's row functions. */
struct cb {
	void (*fn)(void);
	void *ctx;
	int ncols;
};

/* The host fact that holds a configuration's nested-lab evidence. */
#define LAB_FACT "nested lab (%s)"

/* Say what failed in words a user can act on; kept in s->err for the caller. */
void sql_error(struct store *s, const char *what);
/* Run sql, which returns no rows. 0, or -1 (said). */
int sql_exec(struct store *s, const char *sql);
/* Text column i, "" where the column is NULL. */
const char *sql_text(sqlite3_stmt *st, int i);
/* Numeric column i, or if_null where the column is NULL (-1 for "unknown" in the scenario tables, NAN for exports). */
double sql_num_or(sqlite3_stmt *st, int i, double if_null);
/* Bind text (NULL as NULL), made valid UTF-8 first: captured output may be anything. */
void sql_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Step st to its end, handing each row to row(); finalized. 0, or -1 (said). */
int sql_each_row(struct store *s, sqlite3_stmt *st, void (*row)(sqlite3_stmt *st, void *arg), void *arg,
		 const char *what);
/* sql prepared, or NULL (said). */
sqlite3_stmt *sql_prepare(struct store *s, const char *sql, const char *what);
/* Text column c into out (len bytes), "" where the column is NULL. */
void sql_col_text(sqlite3_stmt *st, int c, char *out, size_t len);
/* A database written before version 4 has no scenario tables: nothing to read, not an error. */
int sql_no_table(struct store *s);
/* A new zeroed row at the end of *rows (n used of cap, elem bytes each), growing it by doubling; NULL without
 * memory (the rows so far stay). */
void *sql_next_row(void **rows, size_t *n, size_t *cap, size_t elem);
/* Text column i, NULL where the column is NULL. */
const char *sql_text_or_null(sqlite3_stmt *st, int i);

#endif
