/* plan_read.h: what the plan parser's files share (nothing outside plan/ includes it): the reader's state, the
 * sections, the values read and the keys set. */
#ifndef VGPUBENCH_PLAN_READ_H
#define VGPUBENCH_PLAN_READ_H

#include <stddef.h>

#include "plan/plan.h"

#define MAX_LINE 1024

struct pstate {
	const char *file;
	int line;
	char *err;
	size_t errlen;
	struct plan_mediator *med; /* the section's scheduling ([mediator] or a scenario) */
	struct plan_scenario *sc;  /* the scenario being read */
};

enum section {
	SEC_NONE,
	SEC_PLAN,
	SEC_GUEST,
	SEC_MEDIATOR,
	SEC_SCENARIO,
	SEC_NOISE,
	SEC_PASSTHROUGH,
	SEC_GVT,
	SEC_COUNT
};

int pr_fail(struct pstate *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *pr_trim(char *s);
int pr_int(struct pstate *s, const char *key, const char *v, long lo, long hi, int *out);
/* A real number from lo to hi; `what` names it in the error ("a number of seconds", "a percentage"). */
int pr_real(struct pstate *s, const char *key, const char *v, double lo, double hi, const char *what, double *out);
int pr_seconds(struct pstate *s, const char *key, const char *v, double lo, double hi, double *out);
int pr_pct(struct pstate *s, const char *key, const char *v, double lo, double hi, double *out);
/* Split a list value in place; calls fn for each item. */
int pr_items(struct pstate *s, const char *key, char *v, int (*fn)(struct pstate *, struct plan *, const char *),
	     struct plan *p);
int pr_bool(struct pstate *s, const char *key, const char *v, int *out);
/* A scenario is whole: its lists agree with each other. */
int pr_check_scenario(struct pstate *s, struct plan_scenario *sc);
/* key = val in section sec (seen: the keys of that section given so far, a bit each). */
int pr_set_key(struct pstate *s, struct plan *p, enum section sec, unsigned *seen, const char *key, char *val);
/* The section named name ([plan], [guest] ...; not a scenario's), or SEC_NONE. */
enum section pr_section_named(const char *name);

#endif
