/* import.c: a run written row by row from outside (vgpubench import), in one transaction: the tables a run owns,
 * each row's columns checked against the database's own before any SQL is made of their names, the run's id and
 * its rows' parents set here, never taken from the rows. */
#define _GNU_SOURCE
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

/* The tables a run owns, and the column that ties a row to its parent: the run (run_id), the job or scenario job
 * (job_id), or none for the run itself (whose id is the run's). has_id: the table numbers its rows itself. */
static const struct {
	const char *name, *parent;
	int has_id;
} tables[] = {
	{ "runs", "id", 0 },	      { "host_facts", "run_id", 0 },  { "configs", "run_id", 0 },
	{ "guests", "run_id", 1 },    { "jobs", "run_id", 1 },	      { "metrics", "job_id", 0 },
	{ "subtests", "job_id", 0 },  { "job_noise", "job_id", 0 },   { "vgpu_stats", "job_id", 0 },
	{ "vgpu_health", "job_id", 0 }, { "job_stages", "job_id", 0 }, { "scenario_jobs", "run_id", 1 },
	{ "scenario_samples", "job_id", 0 }, { "calibration_rows", "run_id", 0 },
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))
#define MAX_COLS 64

struct store_import {
	struct store *s;
	char *run;
	/* Each table's columns as the database has them, read once (ncols -1: not yet). */
	struct {
		int ncols;
		char *cols[MAX_COLS];
		enum db_type decl[MAX_COLS]; /* what each is declared to hold (DB_T_NULL: anything) */
	} known[NTABLES];
};

struct store_import *store_import_begin(struct store *s, const char *run)
{
	struct store_import *im = calloc(1, sizeof(*im));

	if (!im || !(im->run = strdup(run)))
		abort();
	im->s = s;
	for (size_t t = 0; t < NTABLES; t++)
		im->known[t].ncols = -1;
	if (sql_begin(s, 0) < 0) {
		free(im->run);
		free(im);
		return NULL;
	}
	return im;
}

/* Table t's columns, as the database has them. 0, or -1 (said). */
static int columns(struct store_import *im, size_t t)
{
	char sql[96];
	struct db_stmt *st;
	int n;

	if (im->known[t].ncols >= 0)
		return 0;
	if (!sql_has_table(im->s, tables[t].name)) {
		snprintf(im->s->err, sizeof(im->s->err), "this database has no table %s (its schema is older)",
			 tables[t].name);
		return -1;
	}
	snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE 1 = 0", tables[t].name);
	if (!(st = im->s->drv->prepare(im->s->db, sql))) {
		sql_keep_error(im->s);
		return -1;
	}
	n = sql_col_count(st);
	if (n > MAX_COLS)
		n = MAX_COLS;
	for (int c = 0; c < n; c++) {
		if (!(im->known[t].cols[c] = strdup(sql_col_name(st, c))))
			abort();
		im->known[t].decl[c] = st->drv->col_decl(st, c);
	}
	im->known[t].ncols = n;
	sql_finalize(st);
	return 0;
}

/* Table t's column that a row may set (not its id nor its parent) named name: its index, or -1. */
static int settable(const struct store_import *im, size_t t, const char *name)
{
	if (!strcmp(name, "id") || !strcmp(name, tables[t].parent))
		return -1;
	for (int c = 0; c < im->known[t].ncols; c++)
		if (!strcmp(im->known[t].cols[c], name))
			return c;
	return -1;
}

/* Does a value of type v go into a column declared decl? A whole number where a real one belongs; no text in a
 * number's column nor a number in a text's (SQLite would keep either as it came, a server refuses both). */
static int fits(enum db_type decl, int v)
{
	switch (decl) {
	case DB_T_INT:
		return v == STORE_INT || v == STORE_NULL;
	case DB_T_REAL:
		return v == STORE_INT || v == STORE_REAL || v == STORE_NULL;
	case DB_T_TEXT:
		return v == STORE_TEXT || v == STORE_NULL;
	default:
		return 1;
	}
}

/* Fail an import's row: why, kept in s->err. -1. */
__attribute__((format(printf, 2, 3))) static int row_error(struct store_import *im, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(im->s->err, sizeof(im->s->err), fmt, ap);
	va_end(ap);
	return -1;
}

int store_import_row(struct store_import *im, const char *table, long long parent, int n, const char *const *names,
		     const struct store_value *values, long long *id)
{
	size_t t = 0, len = 0;
	char *sql = NULL;
	FILE *f;
	struct db_stmt *st;
	enum db_step rc;

	while (t < NTABLES && strcmp(tables[t].name, table) != 0)
		t++;
	if (t == NTABLES)
		return row_error(im, "no table %s belongs to a run", table);
	if (n < 0 || n >= MAX_COLS)
		return row_error(im, "a row of %s has too many columns", table);
	if (columns(im, t) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		static const char *const kinds[] = { [DB_T_INT] = "a whole number", [DB_T_REAL] = "a number",
						     [DB_T_TEXT] = "text" };
		int c = settable(im, t, names[i]);

		if (c < 0)
			return row_error(im, "%s has no column '%s' that a row can set", table, names[i]);
		if (!fits(im->known[t].decl[c], values[i].type))
			return row_error(im, "%s.%s holds %s", table, names[i], kinds[im->known[t].decl[c]]);
		for (int k = 0; k < i; k++)
			if (!strcmp(names[k], names[i]))
				return row_error(im, "a row of %s sets %s twice", table, names[i]);
	}
	/* INSERT INTO table(parent, names...) VALUES(?, ...) [RETURNING id]: every name is a known column. */
	if (!(f = open_memstream(&sql, &len)))
		abort();
	fprintf(f, "INSERT INTO %s(%s", table, tables[t].parent);
	for (int i = 0; i < n; i++)
		fprintf(f, ", %s", names[i]);
	fprintf(f, ") VALUES(?");
	for (int i = 0; i < n; i++)
		fprintf(f, ", ?");
	fprintf(f, ")%s", tables[t].has_id ? " RETURNING id" : "");
	if (fclose(f) != 0)
		abort();
	st = im->s->drv->prepare(im->s->db, sql);
	free(sql);
	if (!st) {
		sql_keep_error(im->s);
		return -1;
	}
	if (!strcmp(tables[t].parent, "job_id"))
		sql_bind_int64(st, 1, parent);
	else
		sql_bind_text(st, 1, im->run);
	for (int i = 0; i < n; i++) {
		switch (values[i].type) {
		case STORE_INT:
			sql_bind_int64(st, i + 2, values[i].i);
			break;
		case STORE_REAL:
			sql_bind_double(st, i + 2, values[i].d);
			break;
		case STORE_TEXT:
			sql_bind_text(st, i + 2, values[i].t);
			break;
		default:
			sql_bind_null(st, i + 2);
			break;
		}
	}
	rc = sql_step(st);
	if (rc == DB_ERR || (tables[t].has_id && rc != DB_ROW)) {
		sql_keep_error(im->s);
		sql_finalize(st);
		return -1;
	}
	if (id)
		*id = tables[t].has_id ? sql_int64(st, 0) : 0;
	sql_finalize(st);
	return 0;
}

int store_import_end(struct store_import *im, int commit)
{
	int rc = 0;

	if (!im)
		return -1;
	if (commit)
		rc = sql_commit(im->s);
	else
		sql_rollback(im->s);
	for (size_t t = 0; t < NTABLES; t++)
		for (int c = 0; c < im->known[t].ncols; c++)
			free(im->known[t].cols[c]);
	free(im->run);
	free(im);
	return commit ? rc : -1;
}
