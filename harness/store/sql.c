/* sql.c: the store's helpers over its back-end (sql.h): errors in words, transactions, statements prepared, bound,
 * stepped and read. */
#define _GNU_SOURCE
#include "store/store.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util.h"

/* What failed, in words a user can act on, into s->err. */
void sql_keep_error(struct store *s)
{
	const char *msg = s->drv && s->db ? s->drv->errmsg(s->db) : "out of memory";

	switch (s->drv && s->db ? s->drv->fail(s->db) : DB_F_OTHER) {
	case DB_F_FULL:
		snprintf(s->err, sizeof(s->err), "the disk holding the database is full (%s)", msg);
		break;
	case DB_F_BUSY:
		snprintf(s->err, sizeof(s->err), "the database was locked by another process for more than %d s (%s)",
			 DB_BUSY_S, msg);
		break;
	case DB_F_READONLY:
		snprintf(s->err, sizeof(s->err), "the database is read-only (%s)", msg);
		break;
	case DB_F_CONN:
		snprintf(s->err, sizeof(s->err), "the connection to the database server was lost (%s)", msg);
		break;
	default:
		snprintf(s->err, sizeof(s->err), "%s", msg);
	}
}

/* Say what failed in words a user can act on; kept in s->err for the caller. */
void sql_error(struct store *s, const char *what)
{
	sql_keep_error(s);
	vb_err("database: %s%s%s", s->err, what ? " in: " : "", what ? what : "");
}

int sql_exec(struct store *s, const char *sql)
{
	if (s->drv->exec(s->db, sql) < 0) {
		char what[64];

		snprintf(what, sizeof(what), "%.60s", sql);
		sql_error(s, what);
		return -1;
	}
	return 0;
}

int sql_begin(struct store *s, int lock)
{
	if (s->drv->begin(s->db, lock) < 0) {
		sql_error(s, "starting a transaction");
		s->drv->exec(s->db, "ROLLBACK");
		return -1;
	}
	return 0;
}

int sql_commit(struct store *s)
{
	if (s->drv->exec(s->db, "COMMIT") < 0) {
		sql_error(s, "committing");
		s->drv->exec(s->db, "ROLLBACK");
		return -1;
	}
	return 0;
}

void sql_rollback(struct store *s)
{
	s->drv->exec(s->db, "ROLLBACK"); /* the failure that brought us here was said */
}

/* Text column i, "" where the column is NULL. */
const char *sql_text(struct db_stmt *st, int i)
{
	const char *t = st->drv->col_text(st, i);

	return t ? t : "";
}

/* Numeric column i, or if_null where the column is NULL (-1 for "unknown" in the scenario tables, NAN for exports). */
double sql_num_or(struct db_stmt *st, int i, double if_null)
{
	return st->drv->col_type(st, i) == DB_T_NULL ? if_null : st->drv->col_double(st, i);
}

/* Bind text (NULL as NULL), made valid UTF-8 first: captured output may be anything. */
void sql_bind_text(struct db_stmt *st, int i, const char *v)
{
	char *fixed = vb_utf8_fix(v);

	st->drv->bind_text(st, i, fixed ? fixed : v);
	free(fixed);
}

/* Step st to its end, handing each row to row(); finalized. 0, or -1 (said). */
int sql_each_row(struct store *s, struct db_stmt *st, void (*row)(struct db_stmt *st, void *arg), void *arg,
		 const char *what)
{
	enum db_step rc;

	while ((rc = sql_step(st)) == DB_ROW)
		row(st, arg);
	sql_finalize(st);
	if (rc != DB_DONE) {
		sql_error(s, what);
		return -1;
	}
	return 0;
}

/* sql prepared, or NULL (said). */
struct db_stmt *sql_prepare(struct store *s, const char *sql, const char *what)
{
	struct db_stmt *st = s->drv->prepare(s->db, sql);

	if (!st)
		sql_error(s, what);
	return st;
}

void sql_col_text(struct db_stmt *st, int c, char *out, size_t len)
{
	const char *v = st->drv->col_text(st, c);

	snprintf(out, len, "%s", v ? v : "");
}

/* A new zeroed row at the end of *rows (n used of cap, elem bytes each), growing it by doubling; NULL without
 * memory (the rows so far stay). */
void *sql_next_row(void **rows, size_t *n, size_t *cap, size_t elem)
{
	uint8_t *r;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		void *nr = realloc(*rows, nc * elem);

		if (!nr)
			return NULL;
		*rows = nr;
		*cap = nc;
	}
	r = (uint8_t *)*rows + (*n)++ * elem;
	memset(r, 0, elem);
	return r;
}

/* Text column i, NULL where the column is NULL. */
const char *sql_text_or_null(struct db_stmt *st, int i)
{
	return st->drv->col_text(st, i);
}
