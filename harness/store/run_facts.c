/* run_facts.c: reading what a run recorded about its arms, and adding up a calibration (see the header). */
#define _GNU_SOURCE
#include "store/run_facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int runner_arm_id(struct store *s, const char *run, int k, char *id, size_t len, int *changed_only)
{
	char *key = vb_strdupf("%s %d", RUNNER_ARM_FACT, k), *fact = store_host_fact_get(s, run, key);

	free(key);
	if (!fact)
		return 0;
	snprintf(id, len, "%.*s", (int)strcspn(fact, " "), fact); /* "ID (only the configurations it changes)" */
	if (changed_only)
		*changed_only = strstr(fact, "(only") != NULL;
	free(fact);
	return 1;
}

struct calibration_totals calibration_totals(const struct calibration_row *rows, size_t n)
{
	struct calibration_totals t = { 0 };

	for (size_t i = 0; i < n; i++) {
		t.aa += rows[i].aa_pairs;
		t.aa_flagged += rows[i].aa_flagged;
		if (rows[i].injected[0]) {
			t.ab += rows[i].ab_pairs;
			t.ab_detected += rows[i].ab_detected;
		}
	}
	return t;
}
