/* values.c: a plan's values read: whole and real numbers in a range, seconds, percentages, yes/no and lists, and
 * an error that names the file and the line. */
#define _GNU_SOURCE

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan_read.h"
#include "util.h"

int pr_fail(struct pstate *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->line > 0)
		n = snprintf(s->err, s->errlen, "%s:%d: ", s->file, s->line);
	else
		n = snprintf(s->err, s->errlen, "%s: ", s->file);
	if (n < 0 || (size_t)n >= s->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

char *pr_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int pr_int(struct pstate *s, const char *key, const char *v, long lo, long hi, int *out)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return pr_fail(s, "%s: '%s' is not a whole number from %ld to %ld", key, v, lo, hi);
	*out = (int)x;
	return 0;
}

/* A real number from lo to hi; `what` names it in the error ("a number of seconds", "a percentage"). */
int pr_real(struct pstate *s, const char *key, const char *v, double lo, double hi, const char *what, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(x) || x < lo || x > hi)
		return pr_fail(s, "%s: '%s' is not %s from %g to %g", key, v, what, lo, hi);
	*out = x;
	return 0;
}

int pr_seconds(struct pstate *s, const char *key, const char *v, double lo, double hi, double *out)
{
	return pr_real(s, key, v, lo, hi, "a number of seconds", out);
}

int pr_pct(struct pstate *s, const char *key, const char *v, double lo, double hi, double *out)
{
	return pr_real(s, key, v, lo, hi, "a percentage", out);
}

/* Split a list value in place; calls fn for each item. */
int pr_items(struct pstate *s, const char *key, char *v, int (*fn)(struct pstate *, struct plan *, const char *),
	     struct plan *p)
{
	int count = 0;

	for (char *tok = strtok(v, ", \t"); tok; tok = strtok(NULL, ", \t")) {
		if (fn(s, p, tok) < 0)
			return -1;
		count++;
	}
	if (count == 0)
		return pr_fail(s, "%s: the list is empty", key);
	return 0;
}

int pr_bool(struct pstate *s, const char *key, const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = 0;
	else
		return pr_fail(s, "%s: '%s' is not yes or no", key, v);
	return 0;
}
