/* sql.c: the store's SQLite helpers (sql.h): errors in words, statements prepared, bound, stepped and read. */
#define _GNU_SOURCE
#include "store/store.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util.h"

/* Say what failed in words a user can act on; kept in s->err for the caller. */
void sql_error(struct store *s, const char *what)
{
	int code = s->db ? sqlite3_errcode(s->db) : SQLITE_NOMEM;
	const char *msg = s->db ? sqlite3_errmsg(s->db) : "out of memory";

	switch (code) {
	case SQLITE_FULL:
		snprintf(s->err, sizeof(s->err), "the disk holding the database is full (%s)", msg);
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		snprintf(s->err, sizeof(s->err), "the database was locked by another process for more than %d s (%s)",
			 BUSY_MS / 1000, msg);
		break;
	case SQLITE_READONLY:
		snprintf(s->err, sizeof(s->err), "the database is read-only (%s)", msg);
		break;
	default:
		snprintf(s->err, sizeof(s->err), "%s", msg);
	}
	vb_err("database: %s%s%s", s->err, what ? " in: " : "", what ? what : "");
}

int sql_exec(struct store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		char what[64];

		snprintf(what, sizeof(what), "%.60s", sql);
		sql_error(s, what);
		return -1;
	}
	return 0;
}

/* Text column i, "" where the column is NULL. */
const char *sql_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* Numeric column i, or if_null where the column is NULL (-1 for "unknown" in the scenario tables, NAN for exports). */
double sql_num_or(sqlite3_stmt *st, int i, double if_null)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? if_null : sqlite3_column_double(st, i);
}

/* Bind text (NULL as NULL), made valid UTF-8 first: captured output may be anything. */
void sql_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	char *fixed = vb_utf8_fix(v);

	if (v)
		sqlite3_bind_text(st, i, fixed ? fixed : v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
	free(fixed);
}

/* Step st to its end, handing each row to row(); finalized. 0, or -1 (said). */
int sql_each_row(struct store *s, sqlite3_stmt *st, void (*row)(sqlite3_stmt *st, void *arg), void *arg,
		 const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row(st, arg);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		sql_error(s, what);
		return -1;
	}
	return 0;
}

/* sql prepared, or NULL (said). */
sqlite3_stmt *sql_prepare(struct store *s, const char *sql, const char *what)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK)
		return st;
	sql_error(s, what);
	return NULL;
}

void sql_col_text(sqlite3_stmt *st, int c, char *out, size_t len)
{
	const char *v = (const char *)sqlite3_column_text(st, c);

	snprintf(out, len, "%s", v ? v : "");
}

/* A database written before version 4 has no scenario tables: nothing to read, not an error. */
int sql_no_table(struct store *s)
{
	return strstr(sqlite3_errmsg(s->db), "no such table") != NULL;
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
const char *sql_text_or_null(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}
