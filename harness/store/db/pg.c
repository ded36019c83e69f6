/* pg.c: the store's server back-end (db.h): a PostgreSQL database through libpq, for a lab of hosts writing into
 * one place. The target is any libpq connection string or URI; a password in it is refused (it would show in `ps`
 * and in logs): libpq's password file, service file or environment carry it instead. Statements are sent with
 * their parameters as text (`?` and `?N` become `$N`), each step of a new execution runs it and keeps its rows.
 * The marks: the comment on table schema_version names the application, and the table holds the version. Schema
 * upgrades take a transaction-scoped advisory lock, so that two hosts opening a new database at once create it
 * once. */
#define _GNU_SOURCE
#include "store/db.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define PG_MAX_PARAMS 64
/* The advisory lock a schema upgrade holds: "vgpb". */
#define PG_SCHEMA_LOCK 0x76677062
/* What the comment on schema_version says, the application mark in hex after it. */
#define PG_MARK "vgpubench application_id "
/* How long a connection lost between transactions is tried again, by default (a server restart, a fail-over), and
 * the most VGPUBENCH_DB_WAIT may ask for. */
#define PG_WAIT_S 60
#define PG_WAIT_MAX_S 3600

struct db {
	PGconn *c;
	int in_tx;         /* inside BEGIN ... COMMIT/ROLLBACK */
	char set[96];      /* the session's settings, made again on a new connection */
	int wait_s;        /* how long a lost connection is tried again (VGPUBENCH_DB_WAIT) */
	int gave_up;       /* it was, in vain: tried once more only, until a connection is made */
	char msg[512];     /* the last failure, on one line */
	char sqlstate[6];  /* and its SQLSTATE, "" when libpq gave none */
};

struct pg_stmt {
	struct db_stmt base;
	struct db *db;
	char *sql;
	int nparams;
	char *values[PG_MAX_PARAMS];
	PGresult *res;
	int row, nrows;
};

#define PS(s) ((struct pg_stmt *)(s))

/* Keep what failed, on one line (libpq's messages end with a newline, may hold a DETAIL line, and indent with
 * tabs): each run of white space as one space. */
static void keep_error(struct db *db, const char *msg, const char *state)
{
	size_t n = 0;

	for (const char *p = msg && *msg ? msg : "unknown error"; *p && n + 1 < sizeof(db->msg); p++) {
		if (isspace((unsigned char)*p)) {
			if (n && db->msg[n - 1] != ' ')
				db->msg[n++] = ' ';
		} else {
			db->msg[n++] = *p;
		}
	}
	while (n && db->msg[n - 1] == ' ')
		n--;
	db->msg[n] = '\0';
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
}

/* Sleep ms milliseconds, or less when a stop is asked for. */
static void pause_ms(long ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) < 0 && errno == EINTR && !vb_stop_requested)
		;
}

/* VGPUBENCH_DB_WAIT: seconds, 0 to PG_WAIT_MAX_S, into *wait_s (PG_WAIT_S when unset or empty). 0, or -1. */
static int wait_from_env(int *wait_s)
{
	const char *v = getenv("VGPUBENCH_DB_WAIT");
	char *end;
	long n;

	*wait_s = PG_WAIT_S;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 0 || n > PG_WAIT_MAX_S)
		return -1;
	*wait_s = (int)n;
	return 0;
}

/* A connection lost between transactions is made again: tried for db->wait_s seconds, 0.25 s apart at first and
 * then at most 2 s apart, so that a server restarted (or failed over) while a job runs costs the run nothing; once
 * that was in vain, once only (a run that stops does not wait again for each thing it still has to say). Nothing of
 * a transaction is replayed on another connection, so inside one the loss stands. 1 when there is a new
 * connection. */
static int reconnect_if_lost(struct db *db)
{
	double start = vb_now();
	long pause = 250;
	PGresult *r;
	int tries;

	if (PQstatus(db->c) == CONNECTION_OK || db->in_tx)
		return 0;

	for (tries = 0;; tries++) {
		PQreset(db->c);
		if (PQstatus(db->c) == CONNECTION_OK)
			break;
		if (db->gave_up || vb_now() - start >= db->wait_s || vb_stop_requested) {
			if (tries)
				vb_warn("database: the server did not come back within %d s (VGPUBENCH_DB_WAIT)",
					db->wait_s);
			db->gave_up = 1;
			return 0;
		}
		if (!tries) {
			keep_error(db, PQerrorMessage(db->c), NULL);
			vb_warn("database: the connection to the server was lost; connecting again for up to %d s (%s)",
				db->wait_s, db->msg);
		}
		pause_ms(pause);
		pause = pause * 2 > 2000 ? 2000 : pause * 2;
	}
	if (tries)
		vb_warn("database: connected again after %.1f s", vb_now() - start);
	db->gave_up = 0;
	r = PQexec(db->c, db->set);
	PQclear(r);
	return 1;
}

/* May sql, sent outside a transaction, be sent again after its connection was found lost? libpq finds the loss
 * only when a statement fails on it: BEGIN and reads are sent again on a new connection, a lone write is not (it
 * may have been done before the connection went). */
static int resendable(const char *sql)
{
	return !strncmp(sql, "BEGIN", 5) || !strncmp(sql, "SELECT", 6) || !strncmp(sql, "WITH", 4);
}

/* Run sql with its params (NULL: none) on db, once more on a new connection when the first try found the
 * connection lost outside a transaction and sql may be sent again. */
static PGresult *run(struct db *db, const char *sql, int n, const char *const *values)
{
	int was_in_tx = db->in_tx;
	PGresult *r;

	reconnect_if_lost(db);
	r = values ? PQexecParams(db->c, sql, n, NULL, values, NULL, NULL, 0) : PQexec(db->c, sql);
	if (PQstatus(db->c) == CONNECTION_OK || was_in_tx || !resendable(sql) || !reconnect_if_lost(db))
		return r;
	PQclear(r);
	return values ? PQexecParams(db->c, sql, n, NULL, values, NULL, NULL, 0) : PQexec(db->c, sql);
}

static int pg_exec(struct db *db, const char *sql);

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* "relation ... already exists, skipping" and the like */
}

/* Is there a password in the connection string? -1 when it does not parse (why in err). */
static int has_password(const char *target, int *connect_timeout, char *err, size_t errlen)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(target, &perr), *o;
	int pw = 0;

	if (!opts) {
		snprintf(err, errlen, "not a PostgreSQL connection string: %s", perr ? perr : "out of memory");
		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		PQfreemem(perr);
		return -1;
	}
	for (o = opts; o->keyword; o++) {
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			pw = 1;
		if (!strcmp(o->keyword, "connect_timeout") && o->val && *o->val)
			*connect_timeout = 1;
	}
	PQconninfoFree(opts);
	return pw;
}

static int pg_open(const char *target, enum db_mode mode, struct db **out, char *err, size_t errlen)
{
	const char *keys[] = { "dbname", "fallback_application_name", "connect_timeout", NULL };
	const char *vals[] = { target, "vgpubench", "10", NULL };
	int timeout_given = 0, pw = has_password(target, &timeout_given, err, errlen), wait_s;
	struct db *db;

	*out = NULL;
	if (pw < 0)
		return -1;
	if (wait_from_env(&wait_s) < 0) {
		snprintf(err, errlen, "VGPUBENCH_DB_WAIT=%.40s is not a number of seconds from 0 to %d",
			 getenv("VGPUBENCH_DB_WAIT"), PG_WAIT_MAX_S);
		return -1;
	}
	if (pw) {
		snprintf(err, errlen,
			 "the database URL holds a password, which would show in ps and in logs: put it in "
			 "~/.pgpass (or the file PGPASSFILE names), a service file, or PGPASSWORD");
		return -1;
	}
	if (timeout_given)
		keys[2] = vals[2] = NULL;
	if (!(db = calloc(1, sizeof(*db)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	db->wait_s = wait_s;
	db->c = PQconnectdbParams(keys, vals, 1);
	if (!db->c || PQstatus(db->c) != CONNECTION_OK) {
		keep_error(db, db->c ? PQerrorMessage(db->c) : "out of memory", NULL);
		snprintf(err, errlen, "cannot connect to the PostgreSQL server: %s", db->msg);
		PQfinish(db->c);
		free(db);
		return -1;
	}
	PQsetNoticeProcessor(db->c, quiet, NULL);
	snprintf(db->set, sizeof(db->set), "SET lock_timeout = '%ds'%s", DB_BUSY_S,
		 mode == DB_READ ? "; SET default_transaction_read_only = on" : "");
	if (pg_exec(db, db->set) < 0) {
		snprintf(err, errlen, "cannot set up the PostgreSQL session: %s", db->msg);
		PQfinish(db->c);
		free(db);
		return -1;
	}
	*out = db;
	return 0;
}

static void pg_close(struct db *db)
{
	if (!db)
		return;
	PQfinish(db->c);
	free(db);
}

/* Did r succeed? If not, keep why. */
static int result_ok(struct db *db, PGresult *r)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return 1;
	keep_error(db, r ? PQresultErrorMessage(r) : PQerrorMessage(db->c),
		   r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
	return 0;
}

static int pg_exec(struct db *db, const char *sql)
{
	PGresult *r;
	int ok;

	r = run(db, sql, 0, NULL);
	ok = result_ok(db, r);
	PQclear(r);
	if (!strncmp(sql, "BEGIN", 5))
		db->in_tx = ok;
	else if (!strncmp(sql, "COMMIT", 6) || !strncmp(sql, "ROLLBACK", 8))
		db->in_tx = 0;
	return ok ? 0 : -1;
}

static int pg_begin(struct db *db, int lock)
{
	char sql[96];

	if (pg_exec(db, "BEGIN") < 0)
		return -1;
	if (!lock)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d)", PG_SCHEMA_LOCK);
	return pg_exec(db, sql);
}

/* sql with `?` and `?N` as $N (outside quotes), and the highest parameter number, or NULL without memory. */
static char *numbered(const char *sql, int *nparams)
{
	char *out = malloc(strlen(sql) * 4 + 1), *o = out, quote = 0;
	int next = 1, max = 0;

	if (!out)
		return NULL;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			*o++ = *p;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			*o++ = *p;
		} else if (*p == '?') {
			int n;

			if (isdigit((unsigned char)p[1])) {
				n = (int)strtol(p + 1, (char **)&p, 10);
				p--;
			} else {
				n = next;
			}
			if (n > max)
				max = n;
			next = max + 1;
			o += sprintf(o, "$%d", n);
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	*nparams = max;
	return out;
}

static struct db_stmt *pg_prepare(struct db *db, const char *sql)
{
	struct pg_stmt *s = calloc(1, sizeof(*s));

	if (!s) {
		keep_error(db, "out of memory", NULL);
		return NULL;
	}
	s->base.drv = &db_pg;
	s->db = db;
	if (!(s->sql = numbered(sql, &s->nparams)) || s->nparams > PG_MAX_PARAMS) {
		keep_error(db, s->sql ? "too many parameters in a statement" : "out of memory", NULL);
		free(s->sql);
		free(s);
		return NULL;
	}
	return &s->base;
}

static void set_value(struct db_stmt *st, int i, char *v)
{
	struct pg_stmt *s = PS(st);

	if (i < 1 || i > s->nparams) {
		free(v);
		return;
	}
	free(s->values[i - 1]);
	s->values[i - 1] = v;
}

static void pg_bind_text(struct db_stmt *st, int i, const char *v)
{
	set_value(st, i, v ? strdup(v) : NULL);
}

static void pg_bind_int64(struct db_stmt *st, int i, long long v)
{
	char *t = NULL;

	if (asprintf(&t, "%lld", v) < 0)
		t = NULL;
	set_value(st, i, t);
}

static void pg_bind_double(struct db_stmt *st, int i, double v)
{
	char *t = NULL;

	if (asprintf(&t, "%.17g", v) < 0)
		t = NULL;
	set_value(st, i, t);
}

static void pg_bind_null(struct db_stmt *st, int i)
{
	set_value(st, i, NULL);
}

static enum db_step pg_step(struct db_stmt *st)
{
	struct pg_stmt *s = PS(st);

	if (!s->res) {
		s->res = run(s->db, s->sql, s->nparams, (const char *const *)s->values);
		if (!result_ok(s->db, s->res)) {
			PQclear(s->res);
			s->res = NULL;
			return DB_ERR;
		}
		s->nrows = PQresultStatus(s->res) == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
		s->row = -1;
	}
	if (s->row + 1 >= s->nrows) {
		s->row = s->nrows;
		return DB_DONE;
	}
	s->row++;
	return DB_ROW;
}

static void pg_reset(struct db_stmt *st)
{
	PQclear(PS(st)->res);
	PS(st)->res = NULL;
}

static int pg_col_count(struct db_stmt *st)
{
	struct pg_stmt *s = PS(st);

	if (!s->res && pg_step(st) != DB_ERR) /* the columns are known once it ran */
		s->row = -1;
	return s->res ? PQnfields(s->res) : 0;
}

static const char *pg_col_name(struct db_stmt *st, int i)
{
	return PS(st)->res ? PQfname(PS(st)->res, i) : "";
}

/* Is there a value at column i of the current row? */
static int at(struct pg_stmt *s, int i)
{
	return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < PQnfields(s->res) &&
	       !PQgetisnull(s->res, s->row, i);
}

/* Type OIDs from the server's pg_type catalogue (stable since PostgreSQL 7). */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25, OID_FLOAT4 = 700,
       OID_FLOAT8 = 701, OID_VARCHAR = 1043, OID_NUMERIC = 1700 };

/* What a column of server type t holds: a whole number (a boolean too), a number, text, or (other) anything. */
static enum db_type oid_type(Oid t, enum db_type other)
{
	switch (t) {
	case OID_BOOL:
	case OID_INT8:
	case OID_INT2:
	case OID_INT4:
		return DB_T_INT;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return DB_T_REAL;
	case OID_TEXT:
	case OID_VARCHAR:
		return DB_T_TEXT;
	default:
		return other;
	}
}

static enum db_type pg_col_type(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PS(st);

	return at(s, i) ? oid_type(PQftype(s->res, i), DB_T_TEXT) : DB_T_NULL; /* a value of another type as text */
}

static enum db_type pg_col_decl(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PS(st);

	return s->res && i >= 0 && i < PQnfields(s->res) ? oid_type(PQftype(s->res, i), DB_T_NULL) : DB_T_NULL;
}

static const char *pg_col_text(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PS(st);

	return at(s, i) ? PQgetvalue(s->res, s->row, i) : NULL;
}

static long long pg_col_int64(struct db_stmt *st, int i)
{
	const char *t = pg_col_text(st, i);

	if (!t)
		return 0;
	if (PQftype(PS(st)->res, i) == OID_BOOL)
		return *t == 't';
	return strchr(t, '.') || strchr(t, 'e') ? (long long)strtod(t, NULL) : strtoll(t, NULL, 10);
}

static double pg_col_double(struct db_stmt *st, int i)
{
	const char *t = pg_col_text(st, i);

	if (!t)
		return 0;
	return PQftype(PS(st)->res, i) == OID_BOOL ? (double)(*t == 't') : strtod(t, NULL);
}

static void pg_finalize(struct db_stmt *st)
{
	struct pg_stmt *s = PS(st);

	if (!s)
		return;
	PQclear(s->res);
	for (int i = 0; i < s->nparams; i++)
		free(s->values[i]);
	free(s->sql);
	free(s);
}

static const char *pg_errmsg(struct db *db)
{
	return db ? db->msg : "out of memory";
}

static enum db_fail pg_fail(struct db *db)
{
	if (!db)
		return DB_F_OTHER;
	if (PQstatus(db->c) != CONNECTION_OK || !strncmp(db->sqlstate, "08", 2) || !strncmp(db->sqlstate, "57P", 3))
		return DB_F_CONN;
	if (!strcmp(db->sqlstate, "23505"))
		return DB_F_UNIQUE;
	if (!strcmp(db->sqlstate, "42P01"))
		return DB_F_NO_TABLE;
	if (!strncmp(db->sqlstate, "53", 2))
		return DB_F_FULL;
	if (!strcmp(db->sqlstate, "25006"))
		return DB_F_READONLY;
	if (!strcmp(db->sqlstate, "40P01") || !strcmp(db->sqlstate, "55P03"))
		return DB_F_BUSY;
	return DB_F_OTHER;
}

/* The first column of the first row of sql, or NULL (malloc'ed); -1 when sql failed. */
static int scalar(struct db *db, const char *sql, char **out)
{
	PGresult *r = PQexec(db->c, sql);
	int ok = result_ok(db, r);

	*out = NULL;
	if (ok && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		*out = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return ok ? 0 : -1;
}

static int pg_marks(struct db *db, int *app, int *version)
{
	char *comment = NULL, *v = NULL;

	*app = *version = 0;
	/* From the catalogue's tables, not to_regclass(): a name lookup may answer from a cache that has not yet seen
	 * a table another session created while this one waited for the schema's lock. */
	if (scalar(db,
		   "SELECT d.description FROM pg_catalog.pg_class c"
		   " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()"
		   " LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.objsubid = 0"
		   " AND d.classoid = 'pg_catalog.pg_class'::regclass"
		   " WHERE c.relname = 'schema_version' AND c.relkind = 'r'",
		   &comment) < 0)
		return -1;
	if (comment && !strncmp(comment, PG_MARK, strlen(PG_MARK)))
		*app = (int)strtol(comment + strlen(PG_MARK), NULL, 16);
	free(comment);
	if (!*app)
		return 0;
	if (scalar(db, "SELECT version FROM schema_version", &v) < 0)
		return -1;
	*version = v ? atoi(v) : 0;
	free(v);
	return 0;
}

static int pg_set_marks(struct db *db, int app, int version)
{
	char sql[128];

	(void)version; /* the store keeps it in schema_version */
	snprintf(sql, sizeof(sql), "COMMENT ON TABLE schema_version IS '" PG_MARK "%#x'", (unsigned)app);
	return pg_exec(db, sql);
}

static int pg_tables(struct db *db, void (*fn)(void *ctx, const char *name), void *ctx)
{
	PGresult *r = PQexec(db->c, "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
				    " ORDER BY tablename");

	if (!result_ok(db, r)) {
		PQclear(r);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++)
		fn(ctx, PQgetvalue(r, i, 0));
	PQclear(r);
	return 0;
}

const struct db_driver db_pg = {
	.scheme = "postgresql",
	.id_pk = "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.write_setup = NULL,
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.begin = pg_begin,
	.prepare = pg_prepare,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.reset = pg_reset,
	.col_count = pg_col_count,
	.col_name = pg_col_name,
	.col_decl = pg_col_decl,
	.col_type = pg_col_type,
	.col_text = pg_col_text,
	.col_int64 = pg_col_int64,
	.col_double = pg_col_double,
	.finalize = pg_finalize,
	.errmsg = pg_errmsg,
	.fail = pg_fail,
	.marks = pg_marks,
	.set_marks = pg_set_marks,
	.tables = pg_tables,
};
