/* import.h: a run exported as JSON (export.h, schema version 2), from any host or store, stored again. */
#ifndef VGPUBENCH_IMPORT_H
#define VGPUBENCH_IMPORT_H

#include <stddef.h>
#include "store/store.h"

struct json_object;

/* The run export in the JSON file at path, read and checked (its schema, version and run id): the document, or
 * NULL with why said (the file unreadable, not JSON, truncated, of another schema or a newer version). */
struct json_object *import_load(const char *path);
/* Store the run of doc (import_load's; path for messages) in st, all of it or nothing; its id into run. 0 imported
 * (said on standard output), 1 when the same run is there already (nothing to do), -1 with why said in one line: a
 * row the database refuses or of the wrong shape, or a different run with the same id there already. */
int import_run(struct store *st, struct json_object *doc, const char *path, char *run, size_t runlen);

#endif
