/* url.c: which back-end a --db URL names (db.h). */
#include "store/db.h"

#include <stdio.h>
#include <string.h>

const struct db_driver *db_driver_for(const char *url, const char **target, char *err, size_t errlen)
{
	if (!url || !*url) {
		snprintf(err, errlen, "no database named");
		return NULL;
	}
	if (!strncmp(url, "sqlite:", 7)) {
		*target = url + 7;
		if (!**target) {
			snprintf(err, errlen, "the database URL 'sqlite:' names no file: write sqlite:PATH");
			return NULL;
		}
		return &db_sqlite;
	}
	if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11) ||
	    !strncmp(url, "postgresql:", 11)) {
		*target = url;
		if (!strncmp(url, "postgresql:", 11) && strncmp(url, "postgresql://", 13))
			*target = url + 11; /* postgresql:KEY=VALUE ... (a libpq keyword string) */
		return &db_pg;
	}
	if (strstr(url, "://")) {
		snprintf(err, errlen, "unknown kind of database URL '%.*s': use sqlite:PATH or postgresql://...",
			 (int)(strstr(url, "://") - url), url);
		return NULL;
	}
	*target = url; /* a path */
	return &db_sqlite;
}
