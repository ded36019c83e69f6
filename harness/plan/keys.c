/* keys.c: what each key of a plan sets, section by section (one table of keys a section), and the checks of a
 * scenario once its section ends. */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configs/configs.h"
#include "edid_block.h"
#include "host/pci_vfio.h"
#include "plan/plan_read.h"
#include "sched_policy.h"
#include "util.h"
#include "workload.h"

static const char *config_name_at(size_t i)
{
	const struct config_def *c = config_at(i);

	return c ? c->name : NULL;
}

static const char *workload_name_at(size_t i)
{
	const struct workload_def *w = workload_at(i);

	return w ? w->name : NULL;
}

/*
 * Add registry entry `name` to list (once); `at` enumerates the registry.
 * The stored pointer is the registry's own string.
 */
static int add_named(struct pstate *s, const char *key, const char *what, const char *(*at)(size_t),
		     const char *name, const char **list, int *n)
{
	const char *found = NULL;
	char known[256] = "";

	for (size_t i = 0; at(i); i++) {
		if (strcmp(at(i), name) == 0)
			found = at(i);
		strncat(known, i ? ", " : "", sizeof(known) - strlen(known) - 1);
		strncat(known, at(i), sizeof(known) - strlen(known) - 1);
	}
	if (!found)
		return pr_fail(s, "%s: unknown %s '%s' (known: %s)", key, what, name, known);
	for (int i = 0; i < *n; i++)
		if (list[i] == found)
			return pr_fail(s, "%s: '%s' is listed twice", key, name);
	if (*n == PLAN_MAX_LIST)
		return pr_fail(s, "%s: more than %d entries", key, PLAN_MAX_LIST);
	list[(*n)++] = found;
	return 0;
}

static int add_config(struct pstate *s, struct plan *p, const char *name)
{
	return add_named(s, "configs", "config", config_name_at, name, p->configs, &p->nconfigs);
}

static int add_workload(struct pstate *s, struct plan *p, const char *name)
{
	return add_named(s, "workloads", "workload", workload_name_at, name, p->workloads, &p->nworkloads);
}

static int add_guests(struct pstate *s, struct plan *p, const char *v)
{
	int n;

	if (pr_int(s, "guests", v, 1, 16, &n) < 0)
		return -1;
	for (int i = 0; i < p->nguests; i++)
		if (p->guests[i] == n)
			return pr_fail(s, "guests: %d is listed twice", n);
	if (p->nguests == PLAN_MAX_LIST)
		return pr_fail(s, "guests: more than %d entries", PLAN_MAX_LIST);
	p->guests[p->nguests++] = n;
	return 0;
}

static int policy_index(struct pstate *s, const char *key, const char *v)
{
	for (int i = 0; plan_policy_name(i); i++)
		if (!strcmp(plan_policy_name(i), v))
			return i;
	return pr_fail(s, "%s: unknown policy '%s' (known: %s)", key, v, sched_policy_names()), -2;
}

/* "guestN:VALUE": N and the value's text. */
static int guest_pair(struct pstate *s, const char *key, const char *item, int *n, const char **val)
{
	const char *colon = strchr(item, ':');
	char num[8];
	size_t len;

	if (strncmp(item, "guest", 5) || !colon || (len = (size_t)(colon - item - 5)) == 0 || len >= sizeof(num))
		return pr_fail(s, "%s: '%s' is not guestN:VALUE (e.g. guest1:2)", key, item);
	memcpy(num, item + 5, len);
	num[len] = 0;
	if (pr_int(s, key, num, 1, PLAN_MAX_GUEST, n) < 0)
		return -1;
	*val = colon + 1;
	return 0;
}

static void named_guest(struct pstate *s, int n)
{
	if (n > s->med->max_guest) {
		s->med->max_guest = n;
		s->med->line = s->line;
	}
}

/* One "guestN:V" item of a per-guest whole-number setting (key), V from lo to hi, into slot[N]; given once. */
static int add_guest_int(struct pstate *s, const char *key, const char *item, int lo, int hi, int *slot)
{
	const char *v;
	int n, x;

	if (guest_pair(s, key, item, &n, &v) < 0 || pr_int(s, key, v, lo, hi, &x) < 0)
		return -1;
	if (slot[n])
		return pr_fail(s, "%s: guest%d is given twice", key, n);
	slot[n] = x;
	named_guest(s, n);
	return 0;
}

static int add_weight(struct pstate *s, struct plan *p, const char *item)
{
	(void)p;
	return add_guest_int(s, "weights", item, 1, SCHED_MAX_WEIGHT, s->med->weight);
}

static int add_target(struct pstate *s, struct plan *p, const char *item)
{
	const char *v;
	int n;
	double fps;

	(void)p;
	if (guest_pair(s, "targets", item, &n, &v) < 0 ||
	    pr_real(s, "targets", v, 1, SCHED_MAX_FPS, "a frame rate (frames/s)", &fps) < 0)
		return -1;
	if (s->med->target_fps[n] > 0)
		return pr_fail(s, "targets: guest%d is given twice", n);
	s->med->target_fps[n] = fps;
	named_guest(s, n);
	return 0;
}

static int add_vgpu_mem(struct pstate *s, struct plan *p, const char *item)
{
	(void)p;
	return add_guest_int(s, "vgpu_mem_mb", item, 1, 1048576, s->med->vgpu_mem_mb);
}

static int add_policy(struct pstate *s, struct plan *p, const char *name)
{
	struct plan_scenario *sc = s->sc;
	int i = policy_index(s, "policies", name);

	(void)p;
	if (i < 0)
		return -1;
	for (int k = 0; k < sc->npolicies; k++)
		if (sc->policies[k] == i)
			return pr_fail(s, "policies: '%s' is listed twice", name);
	sc->policies[sc->npolicies++] = i;
	return 0;
}

/* A scenario's seat list: workload names or idle. */
static int add_seat(struct pstate *s, const char *key, const char *name, const char **list, int *n)
{
	const char *found = NULL;

	if (*n == PLAN_MAX_SEATS)
		return pr_fail(s, "%s: more than %d guests", key, PLAN_MAX_SEATS);
	if (strcmp(name, "idle") != 0) {
		for (size_t i = 0; workload_at(i); i++)
			if (!strcmp(workload_at(i)->name, name))
				found = workload_at(i)->name;
		if (!found)
			return pr_fail(s, "%s: unknown workload '%s' (a workload name, or idle)", key, name);
	}
	list[(*n)++] = found;
	return 0;
}

static int add_guest_seat(struct pstate *s, struct plan *p, const char *name)
{
	(void)p;
	return add_seat(s, "guests", name, s->sc->guests, &s->sc->nguests);
}

static int add_baseline_seat(struct pstate *s, struct plan *p, const char *name)
{
	(void)p;
	return add_seat(s, "baseline", name, s->sc->baseline, &s->sc->nbaseline);
}

/* [plan] */
static int set_name(struct pstate *s, struct plan *p, char *v)
{
	if (strlen(v) >= sizeof(p->name) || !vb_is_identifier(v))
		return pr_fail(s,
			       "name: '%s' must be 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit, "
			       "without '..'",
			       v);
	strcpy(p->name, v);
	return 0;
}

static int set_configs(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "configs", v, add_config, p);
}

static int set_guests(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "guests", v, add_guests, p);
}

static int set_workloads(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "workloads", v, add_workload, p);
}

static int set_repetitions(struct pstate *s, struct plan *p, char *v)
{
	if (!strcmp(v, "auto")) {
		p->adaptive.on = 1;
		return 0;
	}
	return pr_int(s, "repetitions", v, 1, 100, &p->repetitions);
}

static int set_dom0_load(struct pstate *s, struct plan *p, char *v)
{
	return pr_bool(s, "dom0_load", v, &p->dom0_load);
}

static int set_min_repetitions(struct pstate *s, struct plan *p, char *v)
{
	return pr_int(s, "min_repetitions", v, 2, 100, &p->adaptive.min);
}

static int set_max_repetitions(struct pstate *s, struct plan *p, char *v)
{
	return pr_int(s, "max_repetitions", v, 2, 100, &p->adaptive.max);
}

static int set_target_ci_pct(struct pstate *s, struct plan *p, char *v)
{
	return pr_pct(s, "target_ci_pct", v, 0.1, 100, &p->adaptive.target_ci_pct);
}

/* [guest] */
static int set_memory_mb(struct pstate *s, struct plan *p, char *v)
{
	return pr_int(s, "memory_mb", v, 256, 65536, &p->memory_mb);
}

static int set_vcpus(struct pstate *s, struct plan *p, char *v)
{
	return pr_int(s, "vcpus", v, 1, 64, &p->vcpus);
}

static int set_cpu(struct pstate *s, struct plan *p, char *v)
{
	static const char model_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,=+";

	if (strlen(v) >= sizeof(p->cpu) || !*v || strspn(v, model_chars) != strlen(v))
		return pr_fail(s, "cpu: '%s' is not a QEMU CPU model name", v);
	strcpy(p->cpu, v);
	return 0;
}

/* displays = 1920x1080, 1280x1024: 1 to PLAN_MAX_DISPLAYS modes, each side EDID_MIN_SIDE to EDID_MAX_SIDE (an
 * EDID's detailed timing). */
static int set_displays(struct pstate *s, struct plan *p, char *v)
{
	char *save = NULL;

	p->ndisplays = 0;
	for (char *m = strtok_r(v, ", \t", &save); m; m = strtok_r(NULL, ", \t", &save)) {
		struct edid_timing t;
		uint32_t w, h;

		if (p->ndisplays == PLAN_MAX_DISPLAYS)
			return pr_fail(s, "displays: more than %d", PLAN_MAX_DISPLAYS);
		if (edid_mode_parse(m, &w, &h) < 0)
			return pr_fail(s, "displays: '%s' is not WIDTHxHEIGHT", m);
		/* The mediator's rule for a mode (gpu_outputs_check): what an EDID's detailed timing can carry. */
		if (edid_cvt_rb(w, h, &t) < 0)
			return pr_fail(s, "displays: %ux%u: each side %d to %d", w, h, EDID_MIN_SIDE, EDID_MAX_SIDE);
		p->displays[p->ndisplays++] = (struct plan_display){ (int)w, (int)h };
	}
	if (!p->ndisplays)
		return pr_fail(s, "displays: no mode");
	return 0;
}

static int set_boot_timeout(struct pstate *s, struct plan *p, char *v)
{
	return pr_seconds(s, "boot_timeout_s", v, 5, 3600, &p->boot_timeout_s);
}

static int set_job_timeout(struct pstate *s, struct plan *p, char *v)
{
	return pr_seconds(s, "job_timeout_s", v, 1, 86400, &p->job_timeout_s);
}

static int set_accel(struct pstate *s, struct plan *p, char *v)
{
	if (accel_mode_parse(v, &p->accel) < 0)
		return pr_fail(s, "accel: '%s' is not auto, kvm or tcg", v);
	return 0;
}

static int set_kernel_boot(struct pstate *s, struct plan *p, char *v)
{
	if (strcmp(v, "pvh") != 0 && strcmp(v, "bzimage") != 0)
		return pr_fail(s, "kernel_boot: '%s' is not pvh or bzimage", v);
	p->kernel_bzimage = strcmp(v, "bzimage") == 0;
	return 0;
}

/* [mediator], and the scheduling keys of [scenario NAME] (s->med is the section's). */
static int set_policy(struct pstate *s, struct plan *p, char *v)
{
	int i = policy_index(s, "policy", v);

	(void)p;
	if (i < 0)
		return -1;
	s->med->policy = i;
	return 0;
}

static int set_timeslice(struct pstate *s, struct plan *p, char *v)
{
	(void)p;
	return pr_int(s, "timeslice_ms", v, 1, 1000, &s->med->timeslice_ms);
}

static int set_weights(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "weights", v, add_weight, p);
}

static int set_targets(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "targets", v, add_target, p);
}

static int set_vgpu_mem(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "vgpu_mem_mb", v, add_vgpu_mem, p);
}

static int set_watchdog_ms(struct pstate *s, struct plan *p, char *v)
{
	(void)p;
	s->med->watchdog_set = 1;
	return pr_int(s, "watchdog_ms", v, 0, 600000, &s->med->watchdog_ms);
}

static int set_watchdog_action(struct pstate *s, struct plan *p, char *v)
{
	(void)p;
	if (strcmp(v, "report") && strcmp(v, "quarantine"))
		return pr_fail(s, "watchdog_action: '%s' is not report or quarantine", v);
	s->med->watchdog_quarantine = !strcmp(v, "quarantine");
	return 0;
}

static int set_render_workers(struct pstate *s, struct plan *p, char *v)
{
	(void)p;
	return pr_bool(s, "render_workers", v, &s->med->render_workers);
}

static int set_display_fps(struct pstate *s, struct plan *p, char *v)
{
	(void)p;
	s->med->display_fps_set = 1;
	return pr_int(s, "display_fps", v, 0, 1000, &s->med->display_fps);
}

/* [scenario NAME] */
static int set_policies(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "policies", v, add_policy, p);
}

static int set_seats(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "guests", v, add_guest_seat, p);
}

static int set_baseline(struct pstate *s, struct plan *p, char *v)
{
	return pr_items(s, "baseline", v, add_baseline_seat, p);
}

/* A scenario is whole: its lists agree with each other. */
int pr_check_scenario(struct pstate *s, struct plan_scenario *sc)
{
	int busy = 0, line = s->line;

	s->line = sc->line;
	if (!sc->nguests)
		return pr_fail(s, "[scenario %s] needs 'guests' (a workload or idle for each guest)", sc->name);
	if (!sc->npolicies)
		return pr_fail(s, "[scenario %s] needs 'policies'", sc->name);
	for (int i = 0; i < sc->nguests; i++)
		busy |= sc->guests[i] != NULL;
	if (!busy)
		return pr_fail(s, "[scenario %s]: every guest is idle", sc->name);
	if (sc->nbaseline && sc->nbaseline != sc->nguests)
		return pr_fail(s, "[scenario %s]: baseline names %d guests, guests %d", sc->name, sc->nbaseline,
			       sc->nguests);
	busy = 0;
	for (int i = 0; i < sc->nbaseline; i++)
		busy |= sc->baseline[i] != NULL;
	if (sc->nbaseline && !busy)
		return pr_fail(s, "[scenario %s]: every guest of the baseline is idle", sc->name);
	if (sc->med.max_guest > sc->nguests) {
		s->line = sc->med.line;
		return pr_fail(s, "guest%d is named, but [scenario %s] has %d guests", sc->med.max_guest, sc->name,
			       sc->nguests);
	}
	s->line = line;
	return 0;
}

/* [noise] */
static int set_warmup(struct pstate *s, struct plan *p, char *v)
{
	return pr_bool(s, "warmup", v, &p->noise.warmup);
}

static int set_max_steal(struct pstate *s, struct plan *p, char *v)
{
	return pr_pct(s, "max_steal_pct", v, 0, 100, &p->noise.max_steal_pct);
}

static int set_max_redos(struct pstate *s, struct plan *p, char *v)
{
	return pr_int(s, "max_redos", v, 0, 10, &p->noise.max_redos);
}

static int set_lp_num_threads(struct pstate *s, struct plan *p, char *v)
{
	return pr_int(s, "lp_num_threads", v, 1, 256, &p->noise.lp_num_threads);
}

static int set_pin_cpus(struct pstate *s, struct plan *p, char *v)
{
	return pr_bool(s, "pin_cpus", v, &p->noise.pin_cpus);
}

static int set_boots(struct pstate *s, struct plan *p, char *v)
{
	p->noise.boots_line = s->line;
	return pr_int(s, "boots", v, 1, PLAN_MAX_BOOTS, &p->noise.boots);
}

/* [passthrough] */
static int set_device(struct pstate *s, struct plan *p, char *v)
{
	if (strcmp(v, "auto") == 0) {
		p->pt.device[0] = '\0';
		return 0;
	}
	if (!pci_bdf_valid(v))
		return pr_fail(s, "device: '%s' is neither auto nor a PCI address in full form (like 0000:03:00.0)", v);
	strcpy(p->pt.device, v);
	return 0;
}

static int set_lab(struct pstate *s, struct plan *p, char *v)
{
	if (strcmp(v, "none") && strcmp(v, "nested"))
		return pr_fail(s, "lab: '%s' is neither none nor nested", v);
	p->pt.nested_lab = strcmp(v, "nested") == 0;
	return 0;
}

/* [gvt-g] */
static int set_gvt_type(struct pstate *s, struct plan *p, char *v)
{
	if (strcmp(v, "auto") == 0) {
		p->gvt.type[0] = '\0';
		return 0;
	}
	if (strlen(v) >= sizeof(p->gvt.type) || !vb_is_identifier(v))
		return pr_fail(s, "type: '%s' is neither auto nor an mdev type id (like i915-GVTg_V5_4)", v);
	strcpy(p->gvt.type, v);
	return 0;
}

/* A key and what sets it. */
struct key_def {
	const char *name;
	int (*set)(struct pstate *s, struct plan *p, char *v);
};

static const struct key_def plan_keys[] = {
	{ "name", set_name },
	{ "configs", set_configs },
	{ "guests", set_guests },
	{ "workloads", set_workloads },
	{ "repetitions", set_repetitions },
	{ "dom0_load", set_dom0_load },
	{ "min_repetitions", set_min_repetitions },
	{ "max_repetitions", set_max_repetitions },
	{ "target_ci_pct", set_target_ci_pct },
};

static const struct key_def guest_keys[] = {
	{ "memory_mb", set_memory_mb },	      { "vcpus", set_vcpus },		  { "cpu", set_cpu },
	{ "boot_timeout_s", set_boot_timeout }, { "job_timeout_s", set_job_timeout }, { "accel", set_accel },
	{ "kernel_boot", set_kernel_boot },     { "displays", set_displays },
};

static const struct key_def mediator_keys[] = {
	{ "policy", set_policy },	    { "timeslice_ms", set_timeslice },
	{ "weights", set_weights },	    { "targets", set_targets },
	{ "watchdog_ms", set_watchdog_ms }, { "watchdog_action", set_watchdog_action },
	{ "display_fps", set_display_fps },   { "render_workers", set_render_workers },
	{ "vgpu_mem_mb", set_vgpu_mem },
};

static const struct key_def scenario_keys[] = {
	{ "policies", set_policies }, { "guests", set_seats },	     { "baseline", set_baseline },
	{ "weights", set_weights },   { "targets", set_targets }, { "timeslice_ms", set_timeslice },
};

static const struct key_def noise_keys[] = {
	{ "warmup", set_warmup },		  { "max_steal_pct", set_max_steal }, { "max_redos", set_max_redos },
	{ "lp_num_threads", set_lp_num_threads }, { "pin_cpus", set_pin_cpus },	  { "boots", set_boots },
};

static const struct key_def passthrough_keys[] = { { "device", set_device }, { "lab", set_lab } };

static const struct key_def gvt_keys[] = { { "type", set_gvt_type } };

/* The sections and their keys, one row a section. */
struct section_def {
	const char *name;
	const struct key_def *keys;
	size_t nkeys;
};

#define KEYS(k) k, sizeof(k) / sizeof(k[0])

static const struct section_def sections[SEC_COUNT] = {
	[SEC_PLAN] = { "plan", KEYS(plan_keys) },
	[SEC_GUEST] = { "guest", KEYS(guest_keys) },
	[SEC_MEDIATOR] = { "mediator", KEYS(mediator_keys) },
	[SEC_SCENARIO] = { "scenario", KEYS(scenario_keys) },
	[SEC_NOISE] = { "noise", KEYS(noise_keys) },
	[SEC_PASSTHROUGH] = { "passthrough", KEYS(passthrough_keys) },
	[SEC_GVT] = { "gvt-g", KEYS(gvt_keys) },
};

#undef KEYS

/* key = val in section sec (seen: the keys of that section given so far, a bit each). */
int pr_set_key(struct pstate *s, struct plan *p, enum section sec, unsigned *seen, const char *key, char *val)
{
	const struct section_def *d = &sections[sec];
	char where[100], known[200] = "";
	size_t k = 0;

	while (k < d->nkeys && strcmp(d->keys[k].name, key) != 0)
		k++;
	snprintf(where, sizeof(where), "[%s%s%s]", d->name, sec == SEC_SCENARIO ? " " : "",
		 sec == SEC_SCENARIO ? s->sc->name : "");
	if (k == d->nkeys) {
		for (size_t i = 0; i < d->nkeys; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "",
				 d->keys[i].name);
		return pr_fail(s, "unknown key '%s' in %s (known: %s)", key, where, known);
	}
	if (*seen & (1u << k))
		return pr_fail(s, "duplicate key '%s' in %s", key, where);
	*seen |= 1u << k;
	return d->keys[k].set(s, p, val);
}

enum section pr_section_named(const char *name)
{
	for (int i = SEC_PLAN; i < SEC_COUNT; i++)
		if (i != SEC_SCENARIO && strcmp(name, sections[i].name) == 0)
			return (enum section)i;
	return SEC_NONE;
}
