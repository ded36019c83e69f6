/* run_facts.h: what a run records about itself for those who read it later:
 * the arms an interleaved run took turns with, and a calibration's totals.
 * The runner and calibrate write these; the report and compare read them.
 * It sits below all of them, so the report needs neither the runner nor
 * calibrate (they call the report, never the other way round). */
#ifndef VGPUBENCH_RUN_FACTS_H
#define VGPUBENCH_RUN_FACTS_H

#include <stddef.h>

#include "store/store.h"

/* The most arms one run interleaves: itself and two more (calibrate's A, A' and B). */
#define RUN_MAX_ARMS 3

/* The host fact that says a run had a slowdown injected. */
#define RUNNER_SLOWDOWN_FACT "injected slowdown"
/* Host facts of an interleaved run: the run's own names each arm ("interleaved arm 1" ...); an arm's names the run
 * it belongs to (resume that one), the mediator it starts and the threshold its compare uses. */
#define RUNNER_ARM_FACT "interleaved arm"
#define RUNNER_ARM_OF_FACT "interleaved with"
#define RUNNER_ARM_MEDIATOR_FACT "arm mediator"
#define RUNNER_ARM_THRESHOLD_FACT "arm compare threshold"

/* Arm k (1..RUN_MAX_ARMS-1) of run, from its host fact RUNNER_ARM_FACT k: its run id into id, and whether it runs
 * only the configurations it changes (changed_only, when not NULL). 1, or 0 when the run has no arm k. */
int runner_arm_id(struct store *s, const char *run, int k, char *id, size_t len, int *changed_only);

/* The host fact of a calibration's own run: the slowdown, rounds, test, and the runs it took. */
#define CALIBRATION_FACT "calibration"

/* A calibration's totals: A/A row pairs and their flags over every row; A/B row pairs and their detections over the
 * rows a slowdown was injected into. */
struct calibration_totals {
	int aa, aa_flagged, ab, ab_detected;
};
struct calibration_totals calibration_totals(const struct calibration_row *rows, size_t n);

#endif
