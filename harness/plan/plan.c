/* plan.c: the plan parser: lines, sections and the checks of a whole plan
 * (what each key sets is keys.c, how a value is read values.c). A small INI
 * dialect of our own so that every error, syntactic or semantic, can name the
 * file and the line:
 *   [plan]  name, configs, guests, workloads, repetitions (N or auto), dom0_load, min_repetitions,
 *           max_repetitions, target_ci_pct (the last three for repetitions = auto)
 *   [guest] memory_mb, vcpus, cpu, boot_timeout_s, job_timeout_s, accel
 *   [noise] warmup, max_steal_pct, max_redos, lp_num_threads, pin_cpus, boots
 *   [passthrough] device (auto, or a PCI address), lab (none or nested)
 *   [gvt-g] type (auto, or an mdev type id)
 *   [mediator] policy, timeslice_ms, weights, targets, watchdog_ms, watchdog_action, display_fps, render_workers,
 *              vgpu_mem_mb
 *   [scenario NAME] policies, guests, baseline, weights, targets, timeslice_ms
 * Lists are separated by commas or spaces; '#' and ';' start comments. */
#define _GNU_SOURCE
#include "plan/plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configs/configs.h"
#include "plan/plan_read.h"
#include "sched_policy.h"
#include "util.h"

#define POLICY_NAME(e, name) name,

static const char *const policy_names[] = { SCHED_POLICY_LIST(POLICY_NAME) NULL };

#undef POLICY_NAME

const char *plan_policy_name(int i)
{
	return i >= 0 && i < SCHED_NPOLICIES ? policy_names[i] : NULL;
}

static void plan_defaults(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->name, "unnamed");
	p->repetitions = 3;
	p->dom0_load = 1;
	p->memory_mb = 1024;
	p->vcpus = 1;
	strcpy(p->cpu, "Westmere");
	p->boot_timeout_s = 300;
	p->job_timeout_s = 600;
	p->accel = ACCEL_AUTO;
	p->med.policy = -1;
	p->adaptive.min = 5;
	p->adaptive.max = 20;
	p->adaptive.target_ci_pct = 5;
	p->noise.max_steal_pct = 10;
	p->noise.max_redos = 2;
	p->noise.pin_cpus = 1;
	p->noise.boots = 1;
}

void plan_boot_reps(const struct plan *p, int b, int *first, int *last)
{
	int n = p->noise.boots > 0 ? p->noise.boots : 1;

	*first = (b - 1) * p->repetitions / n + 1;
	*last = b * p->repetitions / n;
}

/* A [section] header, l without its '[': the section it starts (a scenario gets its place in p). 0, or -1 with the
 * error in s. */
static int open_section(struct pstate *s, struct plan *p, char *l, enum section *sec, unsigned *seen, int *had)
{
	char *close = strchr(l, ']');
	char *name;
	enum section named;

	if (!close || pr_trim(close + 1)[0] != '\0')
		return pr_fail(s, "malformed section header '[%s' (expected '[name]')", l);
	*close = '\0';
	name = pr_trim(l);
	named = pr_section_named(name);
	if (named != SEC_NONE) {
		*sec = named;
		if (had[named])
			return pr_fail(s, "section [%s] appears twice", name);
		had[named] = 1;
		s->med = &p->med;
		return 0;
	}
	if (strncmp(name, "scenario", 8) == 0 && isspace((unsigned char)name[8])) {
		char *sn = pr_trim(name + 8);
		struct plan_scenario *sc;

		if (strlen(sn) >= sizeof(sc->name) || !vb_is_identifier(sn))
			return pr_fail(s, "scenario name '%s' must be 1-63 letters, digits, '-', '_' or '.'", sn);
		for (int i = 0; i < p->nscenarios; i++)
			if (!strcmp(p->scenarios[i].name, sn))
				return pr_fail(s, "section [scenario %s] appears twice", sn);
		if (p->nscenarios && pr_check_scenario(s, s->sc) < 0)
			return -1;
		if (p->nscenarios == PLAN_MAX_SCENARIOS)
			return pr_fail(s, "more than %d scenarios", PLAN_MAX_SCENARIOS);
		sc = &p->scenarios[p->nscenarios++];
		memset(sc, 0, sizeof(*sc));
		strcpy(sc->name, sn);
		sc->med.policy = -1;
		sc->line = s->line;
		s->sc = sc;
		s->med = &sc->med;
		seen[SEC_SCENARIO] = 0;
		*sec = SEC_SCENARIO;
		return 0;
	}
	return pr_fail(s,
			  "unknown section [%s] (known: [plan], [guest], [mediator], [noise], [passthrough], [gvt-g], "
			  "[scenario NAME])",
			  name);
}

/* A 'key = value' line l of section sec. 0, or -1 with the error in s. */
static int read_key(struct pstate *s, struct plan *p, char *l, enum section sec, unsigned *seen)
{
	char *eq = strchr(l, '='), *key, *val;

	if (!eq)
		return pr_fail(s, "expected 'key = value', got '%s'", l);
	*eq = '\0';
	key = pr_trim(l);
	val = pr_trim(eq + 1);
	/* Inline comments after whitespace. */
	for (char *c = val; *c; c++)
		if ((*c == '#' || *c == ';') && c > val && isspace((unsigned char)c[-1])) {
			*c = '\0';
			val = pr_trim(val);
			break;
		}
	if (*key == '\0')
		return pr_fail(s, "missing key before '='");
	if (*val == '\0')
		return pr_fail(s, "%s: missing value", key);
	if (sec == SEC_NONE)
		return pr_fail(s, "key '%s' outside any section (start with [plan])", key);
	return pr_set_key(s, p, sec, &seen[sec], key, val);
}

/* The checks of the whole plan, once every line is read, and what follows from it (the default guest count, the
 * repetitions of an adaptive plan). 0, or -1 with the error in s. */
static int check_plan(struct pstate *s, struct plan *p, const int *had)
{
	if (p->nscenarios && pr_check_scenario(s, s->sc) < 0)
		return -1;
	s->line = 0;
	if (!had[SEC_PLAN])
		return pr_fail(s, "no [plan] section");
	/* A plan of scenarios alone needs no configs or workloads of its own. */
	if (p->nconfigs == 0 && !p->nscenarios)
		return pr_fail(s, "[plan] needs 'configs'");
	if (p->nworkloads == 0 && p->nconfigs)
		return pr_fail(s, "[plan] needs 'workloads'");
	if (p->nconfigs == 0 && p->nworkloads)
		return pr_fail(s, "[plan] lists workloads but no configs to run them on");
	if (p->nguests == 0) {
		p->guests[0] = 3;
		p->nguests = 1;
	}
	if (p->adaptive.min > p->adaptive.max)
		return pr_fail(s, "min_repetitions (%d) is more than max_repetitions (%d)", p->adaptive.min,
				  p->adaptive.max);
	if (p->adaptive.on)
		p->repetitions = p->adaptive.min;
	if (p->noise.boots > p->repetitions && p->nconfigs) {
		s->line = p->noise.boots_line;
		return pr_fail(s, "boots = %d: a row takes %d repetition%s%s, and every boot needs one at least",
				  p->noise.boots, p->repetitions, p->repetitions == 1 ? "" : "s",
				  p->adaptive.on ? " (min_repetitions)" : "");
	}
	if (p->med.max_guest) {
		int most = 0;

		for (int i = 0; i < p->nguests; i++)
			most = p->guests[i] > most ? p->guests[i] : most;
		if (p->med.max_guest > most) {
			s->line = p->med.line;
			return pr_fail(s, "[mediator] names guest%d, but the plan boots at most %d guests",
					  p->med.max_guest, most);
		}
	}
	return 0;
}

int plan_parse(const char *file, const char *text, struct plan *p, char *err, size_t errlen)
{
	struct pstate s = { .file = file, .err = err, .errlen = errlen };
	enum section sec = SEC_NONE;
	unsigned seen[SEC_COUNT] = { 0 };
	int had[SEC_COUNT] = { 0 };
	const char *cur = text;
	char line[MAX_LINE + 2];

	plan_defaults(p);
	if (strncmp(cur, "\xef\xbb\xbf", 3) == 0)
		cur += 3; /* a UTF-8 byte order mark, as some editors write */
	while (*cur) {
		const char *nl = strchr(cur, '\n');
		size_t n = nl ? (size_t)(nl - cur) : strlen(cur);
		char *l;

		s.line++;
		if (n > MAX_LINE)
			return pr_fail(&s, "line longer than %d characters", MAX_LINE);
		memcpy(line, cur, n);
		line[n] = '\0';
		cur = nl ? nl + 1 : cur + n;
		if (memchr(line, '\0', n))
			return pr_fail(&s, "NUL byte in the plan");
		l = pr_trim(line);
		if (*l == '\0' || *l == '#' || *l == ';')
			continue;
		if (*l == '[' ? open_section(&s, p, l + 1, &sec, seen, had) < 0 : read_key(&s, p, l, sec, seen) < 0)
			return -1;
	}
	return check_plan(&s, p, had);
}

int plan_load(const char *path, struct plan *p, char **text_out, char *err, size_t errlen)
{
	size_t len;
	char *text = vb_read_file_max(path, PLAN_MAX_BYTES, &len);

	if (!text && errno == EFBIG) {
		snprintf(err, errlen, "%s: the plan is larger than %d KiB: not a plan", path, PLAN_MAX_BYTES / 1024);
		return -1;
	}
	if (!text) {
		snprintf(err, errlen, "%s: cannot read the plan: %s", path, vb_strerror(errno));
		return -1;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: NUL byte in the plan", path);
		free(text);
		return -1;
	}
	if (plan_parse(path, text, p, err, errlen) < 0) {
		free(text);
		return -1;
	}
	if (text_out)
		*text_out = text;
	else
		free(text);
	return 0;
}

int plan_boots_guests(const struct plan *p)
{
	if (p->nscenarios)
		return 1;
	for (int i = 0; i < p->nconfigs; i++)
		if (config_find(p->configs[i])->kind == CONFIG_GUEST)
			return 1;
	return 0;
}
