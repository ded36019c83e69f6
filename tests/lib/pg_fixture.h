/* pg_fixture.h: a new database on the tests' PostgreSQL server, for the tests that run the store on both
 * back-ends. run-tests.sh starts the server (tests/lib/pg_server.sh) and names it in PG_TEST_CONNINFO; without it
 * the PostgreSQL half of a test is not run, and the test says so. */
#ifndef VGPUBENCH_PG_FIXTURE_H
#define VGPUBENCH_PG_FIXTURE_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

/* The server's connection string, or NULL (said once on stdout, as the test's name) when there is none. */
static inline const char *pg_fixture_server(const char *test)
{
	const char *s = getenv("PG_TEST_CONNINFO");

	if (s && *s)
		return s;
	printf("%s: the PostgreSQL back-end is not tested: PG_TEST_CONNINFO names no server (run-tests.sh starts "
	       "one)\n",
	       test);
	return NULL;
}

/* A new, empty database named after this process and name on server: its --db URL (malloc'ed). */
static inline char *pg_fixture_db(const char *server, const char *name)
{
	PGconn *c = PQconnectdb(server);
	char *sql = vb_strdupf("CREATE DATABASE vgpb_%d_%s", (int)getpid(), name), *url;
	PGresult *r = PQexec(c, sql);

	CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	free(sql);
	url = vb_strdupf("postgresql:%s dbname=vgpb_%d_%s", server, (int)getpid(), name);
	return url;
}

/* A test of the store on both back-ends: test_all(db, dir) on a new SQLite database, then on a new database of the
 * tests' server when there is one; dir is a scratch folder (removed after) for what else the test writes. Named
 * name; returns check_done's exit code. */
static inline int pg_fixture_both(const char *name, void (*test_all)(const char *db, const char *dir))
{
	char dir[96], *db;
	const char *server;

	snprintf(dir, sizeof(dir), "/tmp/vgpubench-%s-XXXXXX", name);
	if (!mkdtemp(dir))
		return 1;
	db = vb_strdupf("%s/t.db", dir);
	test_all(db, dir);
	free(db);
	if ((server = pg_fixture_server(name))) {
		db = pg_fixture_db(server, name);
		test_all(db, dir);
		free(db);
	}
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done(name);
}

#endif
