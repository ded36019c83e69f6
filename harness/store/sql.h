/* sql.h: what the store's files share and nothing else includes: the helpers over the back-end's statements
 * (db.h: errors said in words and kept in s->err, statements prepared, bound, stepped and read), the callback
 * sql_each_row's row functions get, and the names the store writes and reads alike. */
#ifndef VGPUBENCH_STORE_SQL_H
#define VGPUBENCH_STORE_SQL_H

#include <stddef.h>

#include "store/db.h"
#include "store/store.h"

/* A caller's callback and its context, for sql_each_row's row functions. */
struct cb {
	void (*fn)(void);
	void *ctx;
	int ncols;
};

/* How many rows of a group meet cond, in SQL both back-ends take (a server sums no booleans). */
#define SQL_COUNT_IF(cond) "sum(CASE WHEN " cond " THEN 1 ELSE 0 END)"

/* The host fact that holds a configuration's nested-lab evidence. */
#define LAB_FACT "nested lab (%s)"

/* Say what failed in words a user can act on; kept in s->err for the caller. */
void sql_error(struct store *s, const char *what);
/* The same into s->err only, for a caller that says it with more of its own. */
void sql_keep_error(struct store *s);
/* Run sql, which returns no rows. 0, or -1 (said). */
int sql_exec(struct store *s, const char *sql);
/* A write transaction (lock: the schema's too). 0, or -1 (said). */
int sql_begin(struct store *s, int lock);
/* End it: commit, or roll back after a failure (whose words stay in s->err). 0, or -1 (said). */
int sql_commit(struct store *s);
void sql_rollback(struct store *s);
/* Text column i, "" where the column is NULL. */
const char *sql_text(struct db_stmt *st, int i);
/* Numeric column i, or if_null where the column is NULL (-1 for "unknown" in the scenario tables, NAN for exports). */
double sql_num_or(struct db_stmt *st, int i, double if_null);
/* Bind text (NULL as NULL), made valid UTF-8 first: captured output may be anything. */
void sql_bind_text(struct db_stmt *st, int i, const char *v);
/* Step st to its end, handing each row to row(); finalized. 0, or -1 (said). */
int sql_each_row(struct store *s, struct db_stmt *st, void (*row)(struct db_stmt *st, void *arg), void *arg,
		 const char *what);
/* sql prepared, or NULL (said). */
struct db_stmt *sql_prepare(struct store *s, const char *sql, const char *what);
/* Text column c into out (len bytes), "" where the column is NULL. */
void sql_col_text(struct db_stmt *st, int c, char *out, size_t len);
/* Does the database have this table? (One written before version 4, read as it is, has no scenario tables:
 * nothing to read there, not an error.) */
int sql_has_table(const struct store *s, const char *table);
/* A new zeroed row at the end of *rows (n used of cap, elem bytes each), growing it by doubling; NULL without
 * memory (the rows so far stay). */
void *sql_next_row(void **rows, size_t *n, size_t *cap, size_t elem);
/* Text column i, NULL where the column is NULL. */
const char *sql_text_or_null(struct db_stmt *st, int i);

/* The back-end's calls on a statement. */
static inline enum db_step sql_step(struct db_stmt *st)
{
	return st->drv->step(st);
}
static inline void sql_reset(struct db_stmt *st)
{
	st->drv->reset(st);
}
static inline void sql_finalize(struct db_stmt *st)
{
	if (st)
		st->drv->finalize(st);
}
static inline void sql_bind_int64(struct db_stmt *st, int i, long long v)
{
	st->drv->bind_int64(st, i, v);
}
static inline void sql_bind_int(struct db_stmt *st, int i, int v)
{
	st->drv->bind_int64(st, i, v);
}
static inline void sql_bind_double(struct db_stmt *st, int i, double v)
{
	st->drv->bind_double(st, i, v);
}
static inline void sql_bind_null(struct db_stmt *st, int i)
{
	st->drv->bind_null(st, i);
}
static inline long long sql_int64(struct db_stmt *st, int i)
{
	return st->drv->col_int64(st, i);
}
static inline int sql_int(struct db_stmt *st, int i)
{
	return (int)st->drv->col_int64(st, i);
}
static inline double sql_double(struct db_stmt *st, int i)
{
	return st->drv->col_double(st, i);
}
static inline enum db_type sql_type(struct db_stmt *st, int i)
{
	return st->drv->col_type(st, i);
}
static inline int sql_col_count(struct db_stmt *st)
{
	return st->drv->col_count(st);
}
static inline const char *sql_col_name(struct db_stmt *st, int i)
{
	return st->drv->col_name(st, i);
}

#endif
