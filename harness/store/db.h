/* db.h: the one interface the store's SQL goes through, and its two back-ends (store/db/sqlite.c, the embedded
 * default, and store/db/pg.c, a PostgreSQL server through libpq). The store writes its statements once, in the
 * SQL both understand, with `?` (or `?N`) for parameters; a back-end opens its target, prepares, binds, steps and
 * reads, says what kind of failure it met, and keeps what marks a database as ours (an application mark and a
 * schema version). Nothing outside store/ includes this. */
#ifndef VGPUBENCH_STORE_DB_H
#define VGPUBENCH_STORE_DB_H

#include <stddef.h>

struct db;

/* How long a statement waits for another process's lock before it fails with that said (DB_F_BUSY). */
#define DB_BUSY_S 10

/* What every back-end's statement begins with, so that a statement finds its back-end. */
struct db_stmt {
	const struct db_driver *drv;
};

enum db_mode { DB_WRITE, DB_READ };
enum db_step { DB_ERR = -1, DB_DONE = 0, DB_ROW = 1 };
enum db_type { DB_T_NULL, DB_T_INT, DB_T_REAL, DB_T_TEXT };

/* The failures the store tells apart, for words a user can act on and for what it does next. */
enum db_fail {
	DB_F_OTHER,
	DB_F_FULL,     /* no space left for the database */
	DB_F_BUSY,     /* another process held a lock too long */
	DB_F_READONLY, /* the database cannot be written */
	DB_F_NO_TABLE, /* the statement names a table the database lacks */
	DB_F_UNIQUE,   /* a row with that key exists already */
	DB_F_CONN,     /* the connection to the server is lost */
};

struct db_driver {
	const char *scheme;  /* as --db names it: "sqlite" or "postgresql" */
	const char *id_pk;   /* DDL of a column that numbers its rows itself: "INTEGER PRIMARY KEY" in SQLite */
	const char *write_setup; /* run on a write connection once the database is known to be ours, or NULL */
	/* Open target (a path, or a libpq connection string). 0, or -1 with why in err. */
	int (*open)(const char *target, enum db_mode mode, struct db **out, char *err, size_t errlen);
	void (*close)(struct db *db);
	/* Statements without parameters or rows, one or several. 0, or -1. */
	int (*exec)(struct db *db, const char *sql);
	/* A write transaction; on a server, one that holds the schema's lock too (lock = 1). 0, or -1. */
	int (*begin)(struct db *db, int lock);
	struct db_stmt *(*prepare)(struct db *db, const char *sql);
	void (*bind_text)(struct db_stmt *st, int i, const char *v); /* i from 1; v NULL binds NULL */
	void (*bind_int64)(struct db_stmt *st, int i, long long v);
	void (*bind_double)(struct db_stmt *st, int i, double v);
	void (*bind_null)(struct db_stmt *st, int i);
	enum db_step (*step)(struct db_stmt *st);
	void (*reset)(struct db_stmt *st); /* to step again with new bindings */
	int (*col_count)(struct db_stmt *st);
	const char *(*col_name)(struct db_stmt *st, int i);
	enum db_type (*col_type)(struct db_stmt *st, int i);
	/* The type column i is declared with, by the table it comes from (DB_T_NULL: any, or not a table's). */
	enum db_type (*col_decl)(struct db_stmt *st, int i);
	const char *(*col_text)(struct db_stmt *st, int i); /* NULL for NULL; valid until the next step */
	long long (*col_int64)(struct db_stmt *st, int i);
	double (*col_double)(struct db_stmt *st, int i);
	void (*finalize)(struct db_stmt *st);
	const char *(*errmsg)(struct db *db);
	enum db_fail (*fail)(struct db *db);
	/* Our marks: *app the application mark (0 when none), *version the schema version it says (0 when none). */
	int (*marks)(struct db *db, int *app, int *version);
	/* Set them, inside the transaction that upgrades the schema. 0, or -1. */
	int (*set_marks)(struct db *db, int app, int version);
	/* Each table's name, sorted. 0, or -1. */
	int (*tables)(struct db *db, void (*fn)(void *ctx, const char *name), void *ctx);
};

extern const struct db_driver db_sqlite, db_pg;

/* The back-end a --db URL names and its target: "sqlite:PATH", "postgresql://…" or "postgres://…" (passed to
 * libpq whole), or a bare path (SQLite). NULL, with why in err, for anything else. */
const struct db_driver *db_driver_for(const char *url, const char **target, char *err, size_t errlen);

#endif
