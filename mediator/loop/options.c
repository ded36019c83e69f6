/* options.c: the command line, one table of options (each its name, its argument, what it sets and its line in
 * the usage), read with getopt_long; the --vgpu and --vtest specs, added once the scheduler exists. */
#define _GNU_SOURCE
#include "loop/options.h"

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display/copy_pool.h"
#include "display/display_sender.h"
#include "edid_block.h"
#include "loop/loop.h"
#include "mono_clock.h"

/* A whole number option from lo to hi: 0, or -1 with the reason printed (what: what it counts, in words). */
static int opt_long(const char *opt, const char *text, long lo, long hi, const char *what, long *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (end == text || *end || v < lo || v > hi) {
		fprintf(stderr, "vgpu-mediator: --%s %s: %s, %ld to %ld\n", opt, text, what, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* A --vgpu or --vtest spec: name=NAME,socket=PATH[,weight=N][,fps=F][,mem=MIB] and, for --vgpu,
 * [,outputs=N][,modes=WxH:WxH...]. */
struct spec {
	char buf[512];
	const char *name, *path;
	long weight;
	double fps;
	long mem_mb; /* the vGPU's size (each client's, for --vtest), 0: none */
	long outputs; /* 0: not given (one) */
	struct gpu_output_mode modes[VIRTIO_GPU_MAX_SCANOUTS];
	uint32_t nmodes;
};

/* modes=WxH:WxH...: at most VIRTIO_GPU_MAX_SCANOUTS sizes, each two whole numbers (their range is the device's to
 * judge). 0, or -1 with the reason printed. */
static int parse_modes(const char *opt, const char *text, char *v, struct spec *sp)
{
	char *save = NULL;

	for (char *m = strtok_r(v, ":", &save); m; m = strtok_r(NULL, ":", &save)) {
		struct gpu_output_mode *o = &sp->modes[sp->nmodes];

		if (sp->nmodes == VIRTIO_GPU_MAX_SCANOUTS) {
			fprintf(stderr, "vgpu-mediator: %s %s: more than %d modes\n", opt, text,
				VIRTIO_GPU_MAX_SCANOUTS);
			return -1;
		}
		if (edid_mode_parse(m, &o->width, &o->height) < 0) {
			fprintf(stderr, "vgpu-mediator: %s %s: mode '%s' is not WIDTHxHEIGHT\n", opt, text, m);
			return -1;
		}
		sp->nmodes++;
	}
	return 0;
}

#define SPEC_MAX_MEM_MB 1048576 /* a vGPU's size: 1 TiB at most */

/* A spec's whole-number value v of key, 1 to hi (unit after hi in the message). 0, or -1 with the reason printed. */
static int spec_long(const char *opt, const char *text, const char *key, const char *v, long hi, const char *unit,
		     long *out)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (end == v || *end || x < 1 || x > hi) {
		fprintf(stderr, "vgpu-mediator: %s %s: %s must be 1 to %ld%s\n", opt, text, key, hi, unit);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_spec(const char *opt, const char *text, struct spec *sp)
{
	char *save = NULL, *weight = NULL, *fps = NULL, *mem = NULL, *outputs = NULL, *modes = NULL, *end;

	memset(sp, 0, sizeof(*sp));
	sp->weight = 1;
	snprintf(sp->buf, sizeof(sp->buf), "%s", text);
	for (char *kv = strtok_r(sp->buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "name=", 5))
			sp->name = kv + 5;
		else if (!strncmp(kv, "socket=", 7))
			sp->path = kv + 7;
		else if (!strncmp(kv, "weight=", 7))
			weight = kv + 7;
		else if (!strncmp(kv, "fps=", 4))
			fps = kv + 4;
		else if (!strncmp(kv, "mem=", 4))
			mem = kv + 4;
		else if (!strncmp(kv, "outputs=", 8) && !strcmp(opt, "--vgpu"))
			outputs = kv + 8;
		else if (!strncmp(kv, "modes=", 6) && !strcmp(opt, "--vgpu"))
			modes = kv + 6;
		else {
			fprintf(stderr, "vgpu-mediator: %s %s: unknown key in '%s'\n", opt, text, kv);
			return -1;
		}
	}
	if (!sp->name || !*sp->name || !sp->path || !*sp->path) {
		fprintf(stderr, "vgpu-mediator: %s %s: needs name= and socket=\n", opt, text);
		return -1;
	}
	if ((weight && spec_long(opt, text, "weight", weight, SCHED_MAX_WEIGHT, "", &sp->weight) < 0) ||
	    (mem && spec_long(opt, text, "mem", mem, SPEC_MAX_MEM_MB, " MiB", &sp->mem_mb) < 0) ||
	    (outputs && spec_long(opt, text, "outputs", outputs, VIRTIO_GPU_MAX_SCANOUTS, "", &sp->outputs) < 0) ||
	    (modes && parse_modes(opt, text, modes, sp) < 0))
		return -1;
	if (fps && ((sp->fps = strtod(fps, &end)), end == fps || *end || !(sp->fps >= 0 && sp->fps <= SCHED_MAX_FPS))) {
		fprintf(stderr, "vgpu-mediator: %s %s: fps must be 0 to %.0f\n", opt, text, SCHED_MAX_FPS);
		return -1;
	}
	if (slot_named(sp->name) || ep_named(sp->name)) {
		fprintf(stderr, "vgpu-mediator: %s: name %s given twice\n", opt, sp->name);
		return -1;
	}
	return 0;
}

static int parse_vgpu(const char *text)
{
	struct spec sp;
	struct slot *s;

	if (parse_spec("--vgpu", text, &sp) < 0)
		return -1;
	s = slot_new(sp.name);
	if (!s) {
		fprintf(stderr, "vgpu-mediator: more than %d vGPUs\n", MAX_SLOTS);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", sp.path);
	s->size_bytes = (uint64_t)sp.mem_mb << 20;
	/* Outputs: as many as asked, else one a mode, else one; checked now by the device that will serve them. */
	s->outputs = sp.outputs ? (uint32_t)sp.outputs : sp.nmodes ? sp.nmodes : 1;
	s->nmodes = sp.nmodes;
	memcpy(s->modes, sp.modes, sizeof(s->modes));
	{
		char why[160];

		if (gpu_outputs_check(s->outputs, s->modes, s->nmodes, why, sizeof(why)) < 0) {
			fprintf(stderr, "vgpu-mediator: --vgpu %s: %s\n", text, why);
			return -1;
		}
	}
	sched_set_weight(&M.sched, slot_index(s), sp.weight);
	sched_set_target(&M.sched, slot_index(s), sp.fps);
	return 0;
}

static int parse_vtest(const char *text)
{
	struct spec sp;
	struct vtest_ep *ep = NULL;

	if (parse_spec("--vtest", text, &sp) < 0)
		return -1;
	for (int i = 0; i < MAX_VTEST && !ep; i++)
		if (!M.vtest[i].used)
			ep = &M.vtest[i];
	if (!ep) {
		fprintf(stderr, "vgpu-mediator: more than %d vtest endpoints\n", MAX_VTEST);
		return -1;
	}
	ep->used = 1;
	ep->listen_fd = -1;
	snprintf(ep->name, sizeof(ep->name), "%s", sp.name);
	snprintf(ep->path, sizeof(ep->path), "%s", sp.path);
	ep->weight = sp.weight;
	ep->fps = sp.fps;
	ep->size_bytes = (uint64_t)sp.mem_mb << 20;
	ep->w = (struct watch){ .kind = W_VTEST, .ep = ep, .fd = -1 };
	return 0;
}

/* What each option does with its value (NULL for a flag): 0, 1 for --help, or -1 with the reason printed. */
static int set_listen(struct options *o, const char *opt, const char *v)
{
	(void)opt;
	o->listen_dir = v;
	return 0;
}

static int set_vgpu(struct options *o, const char *opt, const char *v)
{
	(void)opt;
	if (o->nvgpu == MAX_SLOTS) {
		fprintf(stderr, "vgpu-mediator: more than %d vGPUs\n", MAX_SLOTS);
		return -1;
	}
	o->vgpu[o->nvgpu++] = v;
	return 0;
}

static int set_vtest(struct options *o, const char *opt, const char *v)
{
	(void)opt;
	if (o->nvtest == MAX_VTEST) {
		fprintf(stderr, "vgpu-mediator: more than %d vtest endpoints\n", MAX_VTEST);
		return -1;
	}
	o->vtest[o->nvtest++] = v;
	return 0;
}

static int set_control(struct options *o, const char *opt, const char *v)
{
	(void)opt;
	o->control = v;
	return 0;
}

static int set_render_node(struct options *o, const char *opt, const char *v)
{
	(void)opt;
	o->render_node = v;
	return 0;
}

static int set_policy(struct options *o, const char *opt, const char *v)
{
	if (sched_policy_parse(v, &o->policy) == 0)
		return 0;
	fprintf(stderr, "vgpu-mediator: --%s %s: not one of %s\n", opt, v, sched_policy_names());
	return -1;
}

static int set_timeslice(struct options *o, const char *opt, const char *v)
{
	return opt_long(opt, v, 1, 1000, "milliseconds", &o->slice_ms);
}

static int set_watchdog_ms(struct options *o, const char *opt, const char *v)
{
	long ms;

	(void)o;
	if (opt_long(opt, v, 0, 600000, "milliseconds, 0 (off)", &ms) < 0)
		return -1;
	M.watchdog_ns = (uint64_t)ms * 1000000u;
	return 0;
}

static int set_watchdog_action(struct options *o, const char *opt, const char *v)
{
	(void)o;
	if (strcmp(v, "report") && strcmp(v, "quarantine")) {
		fprintf(stderr, "vgpu-mediator: --%s %s: report or quarantine\n", opt, v);
		return -1;
	}
	M.watchdog_quarantine = !strcmp(v, "quarantine");
	return 0;
}

static int set_throttle(struct options *o, const char *opt, const char *v)
{
	long pct;

	if (opt_long(opt, v, 0, SCHED_MAX_THROTTLE, "a percentage, 0 (off)", &pct) < 0)
		return -1;
	o->throttle = (unsigned)pct;
	return 0;
}

static int set_display_fps(struct options *o, const char *opt, const char *v)
{
	long fps;

	(void)o;
	if (opt_long(opt, v, 0, 1000, "updates a second, 0 (every flush)", &fps) < 0)
		return -1;
	M.display_interval_ns = fps ? 1000000000ull / (uint64_t)fps : 0;
	return 0;
}

static int set_copy_threads(struct options *o, const char *opt, const char *v)
{
	return opt_long(opt, v, 0, COPY_POOL_MAX_THREADS, "helper threads, 0 (none)", &o->copy_threads);
}

static int set_display_threads(struct options *o, const char *opt, const char *v)
{
	return opt_long(opt, v, 0, DSEND_MAX_THREADS, "sender threads, 0 (the loop sends)", &o->display_threads);
}

static int set_sandbox_user(struct options *o, const char *opt, const char *v)
{
	(void)opt;
	o->sandbox_user = v;
	return 0;
}

static int set_worker_timeout(struct options *o, const char *opt, const char *v)
{
	long ms;

	(void)o;
	if (opt_long(opt, v, 100, 600000, "milliseconds", &ms) < 0)
		return -1;
	M.worker_timeout_ms = (uint64_t)ms;
	return 0;
}

static int set_help(struct options *o, const char *opt, const char *v)
{
	(void)o, (void)opt, (void)v;
	return 1;
}

/* An option: its name, its argument's name (NULL for a flag), what it sets (set; or for a flag without one, the
 * int in struct options at offset flag, set to 1), and what it does, for the usage. */
struct opt_def {
	const char *name, *arg;
	int (*set)(struct options *o, const char *opt, const char *v);
	const char *help;
	size_t flag;
};

#define OPT(name, arg, set, help) { name, arg, set, help, 0 }
#define FLAG(name, field, help) { name, NULL, NULL, help, offsetof(struct options, field) }

#define SPEC "name=NAME,socket=PATH[,weight=N][,fps=F][,mem=MIB]"
#define VGPU_SPEC SPEC "[,outputs=N][,modes=WxH:WxH...]"

static const struct opt_def opt_table[] = {
	OPT("listen", "DIR", set_listen, "DIR/vgpu.sock takes any number of VMs, each a vGPU"),
	OPT("vgpu", VGPU_SPEC, set_vgpu,
	    "a named vGPU on its own socket (mem: its size; outputs: its displays, 1 to 16; modes: theirs, offered "
	    "instead of the front-end's)"),
	OPT("vtest", SPEC, set_vtest, "dom0's GL clients (Mesa's virpipe), a vGPU each, counted as NAME"),
	OPT("control", "PATH", set_control, "the control socket (default DIR/control.sock with --listen)"),
	OPT("render-node", "PATH|auto|none", set_render_node, "the DRM render node to render on (default auto)"),
	FLAG("no-virgl", no_virgl, "2D only: no renderer"),
	OPT("policy", "POLICY", set_policy, "how the vGPUs share the renderer (default best-effort)"),
	OPT("timeslice-ms", "N", set_timeslice, "the longest turn on the renderer (default 2)"),
	OPT("watchdog-ms", "N", set_watchdog_ms,
	    "a fence or call held longer trips the watchdog (default 2000, 0 off)"),
	OPT("watchdog-action", "report|quarantine", set_watchdog_action, "what a trip does to its vGPU"),
	OPT("throttle", "PCT", set_throttle, "withhold the renderer PCT% of its busy time: a known slowdown"),
	OPT("display-fps", "N", set_display_fps, "display updates a second at most (default 60, 0: every flush)"),
	OPT("copy-threads", "N", set_copy_threads, "helper threads for copies from guest memory"),
	OPT("display-threads", "N", set_display_threads, "display-sender threads (default 1, 0: the loop sends)"),
	FLAG("trace-vhost", trace_vhost, "log every front-end message"),
	FLAG("no-sandbox", no_sandbox, "do not confine the process"),
	OPT("sandbox-user", "USER", set_sandbox_user, "the user to confine to (default nobody, when root)"),
	FLAG("sandbox-self-test", self_test, "confine, make a refused call, and say what happened"),
	FLAG("render-workers", workers, "each vGPU renders in a process of its own"),
	OPT("worker-timeout-ms", "N", set_worker_timeout, "a worker slower to answer a call is killed (default 10000)"),
	FLAG("test-faults", test_faults, "tests only: the control socket takes `fault VGPU ...`"),
	OPT("help", NULL, set_help, "this text"),
};

#undef OPT
#undef FLAG

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

void usage(void)
{
	fprintf(stderr, "usage: vgpu-mediator (--listen DIR | --vgpu %s ...) [OPTION...]\n", SPEC);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_def *d = &opt_table[i];
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
		if (strlen(left) > 36) /* its own line, the help below it */
			fprintf(stderr, "  %s\n", left);
		fprintf(stderr, "  %-36s %s\n", strlen(left) > 36 ? "" : left, d->help);
	}
	fprintf(stderr, "POLICY: %s\n", sched_policy_names());
}

int options_parse(int argc, char **argv, struct options *o)
{
	struct option lo[NOPTS + 1];
	int c, idx;

	memset(o, 0, sizeof(*o));
	o->render_node = "auto";
	o->policy = SCHED_BEST_EFFORT;
	o->slice_ms = 2;
	o->copy_threads = -1;
	o->display_threads = DISPLAY_THREADS_DEFAULT;
	for (size_t i = 0; i < NOPTS; i++)
		lo[i] = (struct option){ opt_table[i].name, opt_table[i].arg ? required_argument : no_argument, NULL,
					 (int)i };
	lo[NOPTS] = (struct option){ 0 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, &idx)) != -1) {
		int rc;

		if (c == 'h')
			c = (int)NOPTS - 1; /* -h: --help */
		if (c == ':') {
			fprintf(stderr, "vgpu-mediator: %s needs a value\n", argv[optind - 1]);
			return -1;
		}
		if (c < 0 || c >= (int)NOPTS) {
			fprintf(stderr, "vgpu-mediator: unknown argument '%s'\n", argv[optind - 1]);
			usage();
			return -1;
		}
		if (!opt_table[c].set) {
			*(int *)((char *)o + opt_table[c].flag) = 1;
			continue;
		}
		rc = opt_table[c].set(o, opt_table[c].name, optarg);
		if (rc > 0)
			usage();
		if (rc)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "vgpu-mediator: unknown argument '%s'\n", argv[optind]);
		usage();
		return -1;
	}
	return 0;
}

int options_apply(const struct options *o)
{
	M.trace_vhost = o->trace_vhost;
	M.workers = o->workers;
	M.test_faults = o->test_faults;
	sched_init(&M.sched, o->policy, (uint64_t)o->slice_ms * 1000000u, mono_ns());
	sched_set_throttle(&M.sched, o->throttle);
	for (int i = 0; i < o->nvgpu; i++)
		if (parse_vgpu(o->vgpu[i]) < 0)
			return -1;
	for (int i = 0; i < o->nvtest; i++)
		if (parse_vtest(o->vtest[i]) < 0)
			return -1;
	return 0;
}
