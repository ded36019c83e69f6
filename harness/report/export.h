/* export.h: a run's results for other tools: JSON, CSV (one row per metric
 * value), KCIDB (KernelCI's schema v5) and JUnit XML (one testcase per workload x config x guest count,
 * failing on failed jobs and regressions; one per piglit test). */
#ifndef VGPUBENCH_EXPORT_H
#define VGPUBENCH_EXPORT_H

#include <stdio.h>
#include "store/store.h"

/* What a JSON export declares itself to be ("schema": {"name", "version"}): version 2 carries a run whole, so
 * that import can store it again (version 1, before it, had no "schema" and left out the plan, guests and scenario
 * jobs). */
#define EXPORT_SCHEMA_NAME "vgpubench-run"
#define EXPORT_SCHEMA_VERSION 2

/* format: "json", "csv", "junit" or "kcidb". 0, or -1 with a message printed. */
int export_run(struct store *st, const char *run, const char *format, FILE *out);

/* The run as KCIDB I/O schema v5 JSON (export_kcidb.c; export_run's "kcidb"). The origin is VGPUBENCH_KCIDB_ORIGIN
 * or "vgpubench". 0, or -1 with a message printed. */
int export_kcidb(struct store *st, const char *run, FILE *out);

struct json_object;
/* Text as a JSON string, made valid UTF-8 (rows written by older versions may hold any bytes); NULL stays NULL
 * (a JSON null, or a property left out). For export.c and export_kcidb.c. */
struct json_object *export_text(const char *t);

#endif
