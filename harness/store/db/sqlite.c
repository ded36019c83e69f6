/* sqlite.c: the store's embedded back-end (db.h): one SQLite file, written in WAL mode with full syncs and foreign
 * keys on, a 10 s wait for another process's lock, its marks in PRAGMA application_id and user_version. A file that
 * cannot be opened for reading in its folder (a read-only folder holding a WAL database) is read as it is on
 * disk. */
#define _GNU_SOURCE
#include "store/db.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SQLite's unix VFS takes absolute paths of fewer than 512 bytes (MAX_PATHNAME); past that it says only "unable to
 * open database file". */
#define SQLITE_PATH_MAX 512

struct db {
	sqlite3 *h;
};

struct lite_stmt {
	struct db_stmt base;
	sqlite3_stmt *st;
};

#define LS(s) ((struct lite_stmt *)(s))

static int path_fits(const char *path, char *err, size_t errlen)
{
	char cwd[4096];
	size_t n = strlen(path);

	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
		n += strlen(cwd) + 1;
	if (n < SQLITE_PATH_MAX)
		return 0;
	snprintf(err, errlen,
		 "the database path is %zu bytes long as an absolute path, and SQLite takes fewer than %d: choose a "
		 "shorter --results folder (%.120s...)",
		 n, SQLITE_PATH_MAX, path);
	return -1;
}

/* "file:" URI of a path, for the immutable fallback. */
static char *file_uri(const char *path, const char *query)
{
	size_t n = strlen(path);
	char *u = malloc(3 * n + strlen(query) + 8), *o = u;

	if (!u)
		return NULL;
	o += sprintf(o, "file:");
	for (const char *p = path; *p; p++)
		if (*p == '%' || *p == '?' || *p == '#')
			o += sprintf(o, "%%%02X", (unsigned char)*p);
		else
			*o++ = *p;
	sprintf(o, "?%s", query);
	return u;
}

static int readable(sqlite3 *h)
{
	sqlite3_stmt *st;
	int ok;

	if (sqlite3_prepare_v2(h, "PRAGMA application_id", -1, &st, NULL) != SQLITE_OK)
		return 0;
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

static int lite_open(const char *path, enum db_mode mode, struct db **out, char *err, size_t errlen)
{
	struct db *db;

	*out = NULL;
	if (path_fits(path, err, errlen) < 0)
		return -1;
	if (mode == DB_READ && access(path, F_OK) < 0) {
		snprintf(err, errlen, "no results database at %s: %s", path, strerror(errno));
		return -1;
	}
	if (!(db = calloc(1, sizeof(*db)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &db->h, mode == DB_READ ? SQLITE_OPEN_READONLY
							 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK ||
	    (mode == DB_READ && !readable(db->h))) {
		char *uri = mode == DB_READ ? file_uri(path, "immutable=1") : NULL;

		/* A WAL database in a folder we cannot write: read it as it is on disk. */
		if (!uri) {
			snprintf(err, errlen, "cannot open the database %s: %s", path,
				 db->h ? sqlite3_errmsg(db->h) : "out of memory");
			goto fail;
		}
		sqlite3_close(db->h);
		db->h = NULL;
		if (sqlite3_open_v2(uri, &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "cannot open the database %s: %s", path,
				 db->h ? sqlite3_errmsg(db->h) : "out of memory");
			free(uri);
			goto fail;
		}
		free(uri);
	}
	sqlite3_busy_timeout(db->h, DB_BUSY_S * 1000);
	*out = db;
	return 0;
fail:
	sqlite3_close(db->h);
	free(db);
	return -1;
}

static void lite_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);
	free(db);
}

static int lite_exec(struct db *db, const char *sql)
{
	return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* The write lock is taken at once (IMMEDIATE): a second writer waits for it here, not half-way through. */
static int lite_begin(struct db *db, int lock)
{
	(void)lock;
	return lite_exec(db, "BEGIN IMMEDIATE;");
}

static struct db_stmt *lite_prepare(struct db *db, const char *sql)
{
	struct lite_stmt *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.drv = &db_sqlite;
	if (sqlite3_prepare_v2(db->h, sql, -1, &s->st, NULL) != SQLITE_OK) {
		sqlite3_finalize(s->st);
		free(s);
		return NULL;
	}
	return &s->base;
}

static void lite_bind_text(struct db_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(LS(st)->st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(LS(st)->st, i);
}

static void lite_bind_int64(struct db_stmt *st, int i, long long v)
{
	sqlite3_bind_int64(LS(st)->st, i, v);
}

static void lite_bind_double(struct db_stmt *st, int i, double v)
{
	sqlite3_bind_double(LS(st)->st, i, v);
}

static void lite_bind_null(struct db_stmt *st, int i)
{
	sqlite3_bind_null(LS(st)->st, i);
}

static enum db_step lite_step(struct db_stmt *st)
{
	int rc = sqlite3_step(LS(st)->st);

	return rc == SQLITE_ROW ? DB_ROW : rc == SQLITE_DONE ? DB_DONE : DB_ERR;
}

static void lite_reset(struct db_stmt *st)
{
	sqlite3_reset(LS(st)->st);
}

static int lite_col_count(struct db_stmt *st)
{
	return sqlite3_column_count(LS(st)->st);
}

static const char *lite_col_name(struct db_stmt *st, int i)
{
	return sqlite3_column_name(LS(st)->st, i);
}

static enum db_type lite_col_type(struct db_stmt *st, int i)
{
	switch (sqlite3_column_type(LS(st)->st, i)) {
	case SQLITE_INTEGER:
		return DB_T_INT;
	case SQLITE_FLOAT:
		return DB_T_REAL;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		return DB_T_TEXT;
	default:
		return DB_T_NULL;
	}
}

/* SQLite's affinity rules on the declared type: INT, then CHAR/CLOB/TEXT, then REAL/FLOA/DOUB. */
static enum db_type lite_col_decl(struct db_stmt *st, int i)
{
	const char *d = sqlite3_column_decltype(LS(st)->st, i);

	if (!d)
		return DB_T_NULL;
	if (strcasestr(d, "INT"))
		return DB_T_INT;
	if (strcasestr(d, "CHAR") || strcasestr(d, "CLOB") || strcasestr(d, "TEXT"))
		return DB_T_TEXT;
	if (strcasestr(d, "REAL") || strcasestr(d, "FLOA") || strcasestr(d, "DOUB"))
		return DB_T_REAL;
	return DB_T_NULL;
}

static const char *lite_col_text(struct db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(LS(st)->st, i);
}

static long long lite_col_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(LS(st)->st, i);
}

static double lite_col_double(struct db_stmt *st, int i)
{
	return sqlite3_column_double(LS(st)->st, i);
}

static void lite_finalize(struct db_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(LS(st)->st);
	free(st);
}

static const char *lite_errmsg(struct db *db)
{
	return db && db->h ? sqlite3_errmsg(db->h) : "out of memory";
}

static enum db_fail lite_fail(struct db *db)
{
	if (!db || !db->h)
		return DB_F_OTHER;
	switch (sqlite3_extended_errcode(db->h)) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return DB_F_UNIQUE;
	default:
		break;
	}
	switch (sqlite3_errcode(db->h)) {
	case SQLITE_FULL:
		return DB_F_FULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DB_F_BUSY;
	case SQLITE_READONLY:
		return DB_F_READONLY;
	default:
		return strstr(sqlite3_errmsg(db->h), "no such table") ? DB_F_NO_TABLE : DB_F_OTHER;
	}
}

static int pragma_int(struct db *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int lite_marks(struct db *db, int *app, int *version)
{
	*app = *version = 0;
	return pragma_int(db, "PRAGMA application_id", app) < 0 || pragma_int(db, "PRAGMA user_version", version) < 0
		       ? -1
		       : 0;
}

static int lite_set_marks(struct db *db, int app, int version)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d;", app, version);
	return lite_exec(db, sql);
}

static int lite_tables(struct db *db, void (*fn)(void *ctx, const char *name), void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

const struct db_driver db_sqlite = {
	.scheme = "sqlite",
	.id_pk = "INTEGER PRIMARY KEY",
	.write_setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	.open = lite_open,
	.close = lite_close,
	.exec = lite_exec,
	.begin = lite_begin,
	.prepare = lite_prepare,
	.bind_text = lite_bind_text,
	.bind_int64 = lite_bind_int64,
	.bind_double = lite_bind_double,
	.bind_null = lite_bind_null,
	.step = lite_step,
	.reset = lite_reset,
	.col_count = lite_col_count,
	.col_name = lite_col_name,
	.col_type = lite_col_type,
	.col_decl = lite_col_decl,
	.col_text = lite_col_text,
	.col_int64 = lite_col_int64,
	.col_double = lite_col_double,
	.finalize = lite_finalize,
	.errmsg = lite_errmsg,
	.fail = lite_fail,
	.marks = lite_marks,
	.set_marks = lite_set_marks,
	.tables = lite_tables,
};
