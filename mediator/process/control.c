/* control.c: counters of every vGPU as one JSON document, and the parser of
 * the control socket's request lines. */
#define _GNU_SOURCE
#include "process/control.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "display/copy_pool.h"
#include "process/proc_mem.h"
#include "render/renderer.h"
#include "sched/gpu_sched.h"
#include "process/sandbox.h"
#include "sched/watchdog.h"

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static void add_ms(json_object *o, const char *k, uint64_t ns)
{
	json_object_object_add(o, k, json_object_new_double((double)ns / 1e6));
}

/* What the scheduler knows of a vGPU: its settings and share, GPU time and how it was measured, waits. */
static json_object *sched_json(const struct sched_vgpu *sv, double share)
{
	json_object *o = json_object_new_object();

	add_u64(o, "weight", sv->weight);
	json_object_object_add(o, "target_fps", json_object_new_double(sv->target_fps));
	json_object_object_add(o, "share", share < 0 ? NULL : json_object_new_double(share));
	add_ms(o, "gpu_ms", sv->gpu_ns);
	add_ms(o, "gpu_sync_ms", sv->sync_ns);
	add_ms(o, "gpu_async_ms", sv->async_ns);
	add_ms(o, "overlap_ms", sv->overlap_ns);
	add_u64(o, "batches", sv->batches);
	add_u64(o, "turns", sv->turns);
	add_ms(o, "queued_ms", sv->queued_ns);
	add_ms(o, "throttled_ms", sv->throttled_ns);
	add_u64(o, "throttles", sv->throttles);
	add_u64(o, "spare_turns", sv->spare_turns);
	add_u64(o, "frames", sv->frames);
	json_object_object_add(o, "fps_last_s", json_object_new_double(sv->fps_last_s));
	add_u64(o, "windows", sv->windows);
	add_u64(o, "windows_met", sv->windows_met);
	return o;
}

/* Which confinement ran, what it kept, and what it refused (sandbox.h). */
static json_object *sandbox_json(void)
{
	struct sandbox_status st;
	json_object *o = json_object_new_object(), *refused = json_object_new_object();

	sandbox_status(&st);
	json_object_object_add(o, "on", json_object_new_boolean(st.on));
	json_object_object_add(o, "mode", json_object_new_string(st.mode));
	json_object_object_add(o, "user", json_object_new_string(st.user));
	json_object_object_add(o, "inherited_fds_closed", json_object_new_int(st.fds_closed));
	json_object_object_add(o, "fds", json_object_new_string(st.kept));
	for (size_t i = 0; i < st.nrefused; i++)
		add_u64(refused, st.refused[i].name, st.refused[i].count);
	json_object_object_add(o, "refused_syscalls", refused);
	return o;
}

static json_object *worker_json(const struct vgpu_worker_log *l)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(l->now.pid));
	json_object_object_add(o, "ready", json_object_new_boolean(l->now.ready));
	add_u64(o, "started", l->started);
	add_u64(o, "restarts", l->started ? l->started - 1 : 0);
	add_u64(o, "died", l->died);
	json_object_object_add(o, "last_exit", json_object_new_string(l->last_exit));
	json_object_object_add(o, "last_status", json_object_new_string(l->last_status));
	add_u64(o, "rss_kb", l->now.pid > 0 ? proc_rss_kb(l->now.pid) : 0);
	/* its bounds: data (the vGPU's size beside its own; 0 for none) and descriptors */
	add_u64(o, "data_kb", l->now.pid > 0 ? proc_data_kb(l->now.pid) : 0);
	add_u64(o, "mem_limit_mb", l->now.mem_limit_mb);
	add_u64(o, "fd_limit", l->now.fd_limit);
	add_u64(o, "calls", l->now.calls);
	add_ms(o, "call_ms_max", l->now.call_ns_max);
	add_u64(o, "submits", l->now.submits);
	add_u64(o, "transfers", l->now.transfers);
	add_u64(o, "async_errors", l->now.async_errors);
	json_object_object_add(o, "last_async_error", json_object_new_string(l->now.last_async_error));
	add_u64(o, "maps", l->now.maps);
	add_u64(o, "bulk_bytes", l->now.bulk_bytes);
	return o;
}

static json_object *health_json(const struct vgpu_health *h)
{
	json_object *o = json_object_new_object();

	add_u64(o, "resets", h->resets);
	add_u64(o, "resumes", h->resumes);
	add_u64(o, "ring_stops", h->ring_stops);
	add_u64(o, "recoveries", h->recoveries);
	json_object_object_add(o, "last_reset_s", h->last_reset_s < 0 ? NULL : json_object_new_double(h->last_reset_s));
	json_object_object_add(o, "last_reset", json_object_new_string(h->last_reset));
	add_u64(o, "drain_ms_max", h->drain_ms_max);
	add_u64(o, "drain_timeouts", h->drain_timeouts);
	add_u64(o, "resignals", h->resignals);
	return o;
}

/* Each stage's histogram (stage_hist.h): count, total, p50/p99/max, and the buckets that hold anything as
 * [bucket, count] pairs, so that a reader can take the difference of two snapshots. */
static json_object *stages_json(const struct stage_hist *st)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < STAGE_COUNT; i++) {
		const struct stage_hist *h = &st[i];
		json_object *so = json_object_new_object(), *hist = json_object_new_array();

		add_u64(so, "count", h->count);
		json_object_object_add(so, "total_ms", json_object_new_double((double)h->total_ns / 1e6));
		json_object_object_add(so, "p50_us", json_object_new_double((double)stage_percentile(h, 50) / 1e3));
		json_object_object_add(so, "p99_us", json_object_new_double((double)stage_percentile(h, 99) / 1e3));
		json_object_object_add(so, "max_us", json_object_new_double((double)h->max_ns / 1e3));
		for (unsigned b = 0; b < STAGE_BUCKETS; b++)
			if (h->b[b]) {
				json_object *pair = json_object_new_array();

				json_object_array_add(pair, json_object_new_int((int)b));
				json_object_array_add(pair, json_object_new_int64((int64_t)h->b[b]));
				json_object_array_add(hist, pair);
			}
		json_object_object_add(so, "hist", hist);
		json_object_object_add(o, stage_name((enum stage)i), so);
	}
	return o;
}

static json_object *vgpu_json(const struct control_vgpu *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "kind", json_object_new_string(v->vtest == 1	 ? "vtest endpoint"
								 : v->vtest == 2 ? "vtest client"
										 : "vm"));
	if (v->vtest == 2) {
		json_object_object_add(o, "program", json_object_new_string(v->program ? v->program : ""));
		add_u64(o, "protocol", (uint64_t)v->protocol);
		add_u64(o, "shm_bytes", v->shm_bytes);
	}
	if (v->sv)
		json_object_object_add(o, "sched", sched_json(v->sv, v->share));
	json_object_object_add(o, "connected", json_object_new_boolean(v->connected));
	add_u64(o, "connects", v->connects);
	json_object_object_add(o, "last_problem", json_object_new_string(v->why ? v->why : ""));
	json_object_object_add(o, "broken", json_object_new_boolean(v->broken));
	if (v->h)
		json_object_object_add(o, "health", health_json(v->h));
	if (v->wl)
		json_object_object_add(o, "worker", worker_json(v->wl));
	if (v->wd) {
		json_object *w = json_object_new_object();

		add_ms(w, "bound_ms", v->wd->bound_ns);
		add_u64(w, "trips", v->wd->trips);
		add_u64(w, "call_trips", v->wd->call_trips);
		add_ms(w, "longest_ms", v->wd->longest_ns);
		json_object_object_add(w, "stuck", json_object_new_boolean(v->wd->tripped));
		if (v->wd->tripped) {
			add_u64(w, "stuck_fence", v->wd->fence);
			add_ms(w, "stuck_ms", v->wd->stuck_ns);
		}
		json_object_object_add(o, "watchdog", w);
	}
	if (v->gd) {
		const struct gpu_device *g = v->gd;
		const struct gpu_stats *s = &g->st;
		json_object *cmds = json_object_new_object();

		json_object_object_add(o, "virgl", json_object_new_boolean(g->virgl));
		add_u64(o, "resources", g->res.live);
		add_u64(o, "contexts", g->ctx.live);
		/* What it holds: host copies of 2D resources, guest memory referenced as backings (the guest's, mapped
		 * once for the whole VM), and the host memory its tables and display buffer take. Renderer-side
		 * memory (3D resources in virglrenderer) is not known here. */
		json_object *mem = json_object_new_object();

		add_u64(mem, "resources_2d_bytes", g->mem_2d);
		/* Its size (--vgpu ...,mem=MiB; 0: none) and what its resources hold of it, 2D and 3D */
		add_u64(mem, "size_bytes", g->size_bytes);
		add_u64(mem, "charged_bytes", g->charged);
		/* With virgl, a 2D resource stays in host memory until a 3D command uses it (gpu_resource.c) */
		add_u64(mem, "resources_2d_to_renderer", g->res_to_renderer);
		add_u64(mem, "backing_bytes", g->backing_bytes);
		add_u64(mem, "backing_tables_bytes", g->backing_table_bytes);
		add_u64(mem, "display_buffer_bytes", g->flush_cap + g->present.cap + g->spare_len);
		add_u64(mem, "id_tables_bytes", idmap_bytes(&g->res) + idmap_bytes(&g->ctx));
		add_u64(mem, "remaps", g->remaps);
		add_u64(mem, "backings_moved", g->backings_moved);
		add_u64(mem, "backings_lost", g->backings_lost);
		json_object_object_add(o, "memory", mem);
		for (int i = 0; i < GC_COUNT; i++)
			if (s->cmds[i])
				add_u64(cmds, gpu_cmd_class_name((enum gpu_cmd_class)i), s->cmds[i]);
		json_object_object_add(o, "commands", cmds);
		add_u64(o, "errors", s->errors);
		json_object_object_add(o, "last_error", json_object_new_string(s->last_error));
		/* Requests put back until its render worker's work was done: a call would have waited behind it */
		add_u64(o, "put_back", g->put_back);
		add_u64(o, "bytes_to_host", s->bytes_to_host);
		add_u64(o, "bytes_from_host", s->bytes_from_host);
		json_object_object_add(o, "render_ms", json_object_new_double((double)s->render_ns / 1e6));
		add_u64(o, "fences", s->fences);
		add_u64(o, "fences_pending", g->npending);
		{
			uint64_t done = s->fences > g->npending ? s->fences - g->npending : 0;

			json_object_object_add(o, "fence_latency_avg_us",
					       json_object_new_double(done ? (double)s->fence_ns_sum / 1e3 / (double)done : 0));
		}
		json_object_object_add(o, "fence_latency_max_us", json_object_new_double((double)s->fence_ns_max / 1e3));
		add_u64(o, "flushes", s->flushes);
		add_u64(o, "display_updates", g->disp.updates);
		add_u64(o, "display_bytes", g->disp.update_bytes);
		/* --display-fps: flushes folded into a later update, and the time updates took (read-backs included) */
		add_u64(o, "display_coalesced", s->display_coalesced);
		json_object_object_add(o, "display_ms", json_object_new_double((double)s->present_ns / 1e6));
		json_object_object_add(o, "display_refresh_hz",
				       json_object_new_double(g->display_interval_ns ? 1e9 / (double)g->display_interval_ns
										: 0));
		/* Its outputs: the mode each offers (null: the front-end's), the resource it shows and how much of it,
		 * and the display updates sent for it. */
		json_object *outs = json_object_new_array();

		for (uint32_t i = 0; i < g->num_scanouts && i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
			json_object *x = json_object_new_object();
			char mode[32];

			snprintf(mode, sizeof(mode), "%ux%u", g->mode[i].width, g->mode[i].height);
			json_object_object_add(x, "mode", g->modes_given ? json_object_new_string(mode) : NULL);
			add_u64(x, "resource", g->scanout[i].resource_id);
			snprintf(mode, sizeof(mode), "%ux%u", g->scanout[i].r.width, g->scanout[i].r.height);
			json_object_object_add(x, "shows",
					       json_object_new_string(g->scanout[i].resource_id ? mode : ""));
			add_u64(x, "display_updates", g->disp.out_updates[i]);
			add_u64(x, "display_bytes", g->disp.out_bytes[i]);
			json_object_array_add(outs, x);
		}
		json_object_object_add(o, "outputs", outs);
		/* How frames reach the front-end: copied over the display socket (no dmabuf scanout is offered) */
		json_object_object_add(o, "display_path", json_object_new_string("copy"));
		json_object_object_add(o, "stages", stages_json(s->stage));
		json_object_object_add(o, "display", json_object_new_string(g->disp.fd >= 0 ? "attached" : "none"));
		json_object_object_add(o, "display_problem", json_object_new_string(g->disp.why));
	}
	if (v->vtest == 1) {
		json_object *arr = json_object_new_array();

		add_u64(o, "dropped", v->dropped);
		for (size_t i = 0; i < v->nclients; i++)
			json_object_array_add(arr, vgpu_json(&v->clients[i]));
		json_object_object_add(o, "clients", arr);
	}
	return o;
}

char *control_json(const struct control_vgpu *v, size_t n, const struct sched *s, double uptime_s)
{
	json_object *root = json_object_new_object(), *m = json_object_new_object(), *arr = json_object_new_array();
	const struct gpu_renderer_desc *rnd = gpu_device_description();
	char *out;

	json_object_object_add(m, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(m, "uptime_s", json_object_new_double(uptime_s));
	json_object_object_add(m, "virgl", json_object_new_boolean(rnd->on));
	json_object_object_add(m, "gl_renderer", json_object_new_string(rnd->gl_renderer));
	json_object_object_add(m, "platform", json_object_new_string(rnd->platform));
	if (s) {
		json_object *so = json_object_new_object();

		json_object_object_add(so, "policy", json_object_new_string(sched_policy_name(s->policy)));
		add_ms(so, "timeslice_ms", s->timeslice_ns);
		add_ms(so, "period_ms", s->period_ns);
		json_object_object_add(so, "others_cap", json_object_new_double(s->others_cap));
		/* --throttle: the slowdown injected on purpose, and the pauses it took */
		json_object_object_add(so, "throttle_pct", json_object_new_int((int)s->throttle.pct));
		add_ms(so, "throttle_paused_ms", s->throttle.paused_ns);
		json_object_object_add(so, "throttle_pauses", json_object_new_int64((int64_t)s->throttle.pauses));
		/* What a vGPU is charged (gpu_sched.h), and how much of it the renderer gives per second of wall time. */
		json_object_object_add(so, "gpu_time",
				       json_object_new_string(s->charge_cpu ? "cpu" : s->own_timelines ? "timeline per worker"
													 : "timeline"));
		json_object_object_add(so, "capacity", json_object_new_int((int)s->capacity));
		json_object_object_add(m, "scheduler", so);
	}
	{
		/* copy_pool.h: helper threads sharing large copies from guest memory with the loop */
		uint64_t jobs, split;

		copy_pool_counts(gpu_device_copy_pool(), &jobs, &split);
		json_object_object_add(m, "copy_threads", json_object_new_int((int)copy_pool_threads(gpu_device_copy_pool())));
		add_u64(m, "copies", jobs);
		add_u64(m, "copies_split", split);
	}
	{
		/* display_sender.h: threads that put display updates on their channels while the loop serves */
		uint64_t jobs;
		unsigned most;

		dsend_counts(gpu_device_sender(), &jobs, &most);
		json_object_object_add(m, "display_threads",
				       json_object_new_int((int)dsend_threads(gpu_device_sender())));
		add_u64(m, "display_sends", jobs);
		add_u64(m, "display_sends_most_held", most);
	}
	json_object_object_add(m, "sandbox", sandbox_json());
	json_object_object_add(root, "mediator", m);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, vgpu_json(&v[i]));
	json_object_object_add(root, "vgpus", arr);
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}

/* A whole-string number: 0, or -1. */
static int parse_long(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

static int parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || !isfinite(*v) ? -1 : 0;
}

int control_parse(const char *line, struct control_req *r, char *err, size_t errlen)
{
	char buf[CONTROL_MAX_LINE + 1], *save = NULL, *w[8];
	size_t len = strlen(line), n = 0;

	memset(r, 0, sizeof(*r));
	r->fps = -1;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (len > CONTROL_MAX_LINE) {
		snprintf(err, errlen, "request longer than %d bytes", CONTROL_MAX_LINE);
		return -1;
	}
	memcpy(buf, line, len);
	buf[len] = 0;
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == sizeof(w) / sizeof(w[0])) {
			snprintf(err, errlen, "too many words (at most %zu)", n);
			return -1;
		}
		w[n++] = t;
	}
	if (!n || !strcmp(w[0], "stats")) {
		if (n > 1) {
			snprintf(err, errlen, "stats takes no argument");
			return -1;
		}
		r->op = CTL_STATS;
		return 0;
	}
	if (!strcmp(w[0], "policy")) {
		enum sched_policy p;

		if (n != 2 || sched_policy_parse(w[1], &p) < 0) {
			snprintf(err, errlen, "policy takes one of %s", sched_policy_names());
			return -1;
		}
		r->op = CTL_POLICY;
		r->policy = (int)p;
		return 0;
	}
	if (!strcmp(w[0], "timeslice")) {
		if (n != 2 || parse_long(w[1], &r->timeslice_ms) < 0 || r->timeslice_ms < 1 || r->timeslice_ms > 1000) {
			snprintf(err, errlen, "timeslice takes milliseconds, 1 to 1000");
			return -1;
		}
		r->op = CTL_TIMESLICE;
		return 0;
	}
	if (!strcmp(w[0], "set")) {
		if (n < 3) {
			snprintf(err, errlen, "set takes a vGPU name and weight=N and/or fps=F");
			return -1;
		}
		if (strlen(w[1]) >= sizeof(r->vgpu)) {
			snprintf(err, errlen, "vGPU name longer than %zu bytes", sizeof(r->vgpu) - 1);
			return -1;
		}
		snprintf(r->vgpu, sizeof(r->vgpu), "%s", w[1]);
		for (size_t i = 2; i < n; i++) {
			if (!strncmp(w[i], "weight=", 7)) {
				if (parse_long(w[i] + 7, &r->weight) < 0 || r->weight < 1 ||
				    r->weight > SCHED_MAX_WEIGHT) {
					snprintf(err, errlen, "weight must be 1 to %d: '%.40s'", SCHED_MAX_WEIGHT,
						 w[i] + 7);
					return -1;
				}
			} else if (!strncmp(w[i], "fps=", 4)) {
				if (parse_double(w[i] + 4, &r->fps) < 0 || r->fps < 0 || r->fps > SCHED_MAX_FPS) {
					snprintf(err, errlen, "fps must be 0 to %.0f: '%.40s'", SCHED_MAX_FPS,
						 w[i] + 4);
					return -1;
				}
			} else {
				snprintf(err, errlen, "unknown setting '%.40s' (weight=, fps=)", w[i]);
				return -1;
			}
		}
		r->op = CTL_SET;
		return 0;
	}
	if (!strcmp(w[0], "watchdog")) {
		if (n < 2 || n > 3 || parse_long(w[1], &r->watchdog_ms) < 0 || r->watchdog_ms < 0 ||
		    r->watchdog_ms > 600000 || (n == 3 && strcmp(w[2], "report") && strcmp(w[2], "quarantine"))) {
			snprintf(err, errlen, "watchdog takes milliseconds, 0 (off) to 600000, then report or quarantine");
			return -1;
		}
		r->op = CTL_WATCHDOG;
		r->watchdog_action = n == 3 ? (!strcmp(w[2], "quarantine") ? 1 : 0) : -1;
		return 0;
	}
	if (!strcmp(w[0], "fault")) {
		if (n != 3 || strlen(w[1]) >= sizeof(r->vgpu)) {
			snprintf(err, errlen, "fault takes a vGPU name and worker-crash, worker-stop, worker-cont or "
					      "worker-delay=MS");
			return -1;
		}
		snprintf(r->vgpu, sizeof(r->vgpu), "%s", w[1]);
		if (!strcmp(w[2], "worker-crash")) {
			r->fault = FAULT_WORKER_CRASH;
		} else if (!strcmp(w[2], "worker-stop")) {
			r->fault = FAULT_WORKER_STOP;
		} else if (!strcmp(w[2], "worker-cont")) {
			r->fault = FAULT_WORKER_CONT;
		} else if (!strncmp(w[2], "worker-delay=", 13) && parse_long(w[2] + 13, &r->delay_ms) == 0 &&
			   r->delay_ms >= 0 && r->delay_ms <= 600000) {
			r->fault = FAULT_WORKER_DELAY;
		} else {
			snprintf(err, errlen, "unknown fault '%.40s' (worker-crash, worker-stop, worker-cont, "
					      "worker-delay=MS up to 600000)", w[2]);
			return -1;
		}
		r->op = CTL_FAULT;
		return 0;
	}
	snprintf(err, errlen, "unknown request '%.40s' (stats, policy, timeslice, set, watchdog, fault)", w[0]);
	return -1;
}

char *control_answer(const char *why)
{
	json_object *o = json_object_new_object();
	char *out;

	json_object_object_add(o, "ok", json_object_new_boolean(!why));
	if (why)
		json_object_object_add(o, "error", json_object_new_string(why));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}
