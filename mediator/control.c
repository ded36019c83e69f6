/* control.c: counters of every vGPU as one JSON document. */
#define _GNU_SOURCE
#include "control.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu_virgl.h"

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static json_object *vgpu_json(const struct control_vgpu *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "connected", json_object_new_boolean(v->connected));
	add_u64(o, "connects", v->connects);
	json_object_object_add(o, "last_problem", json_object_new_string(v->why ? v->why : ""));
	if (v->gd) {
		const struct gpu_device *g = v->gd;
		const struct gpu_stats *s = &g->st;
		json_object *cmds = json_object_new_object();

		json_object_object_add(o, "virgl", json_object_new_boolean(g->virgl));
		add_u64(o, "resources", g->res.live);
		add_u64(o, "contexts", g->ctx.live);
		for (int i = 0; i < GC_COUNT; i++)
			if (s->cmds[i])
				add_u64(cmds, gpu_cmd_class_name((enum gpu_cmd_class)i), s->cmds[i]);
		json_object_object_add(o, "commands", cmds);
		add_u64(o, "errors", s->errors);
		json_object_object_add(o, "last_error", json_object_new_string(s->last_error));
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
		json_object_object_add(o, "display", json_object_new_string(g->disp.fd >= 0 ? "attached" : "none"));
		json_object_object_add(o, "display_problem", json_object_new_string(g->disp.why));
	}
	return o;
}

char *control_json(const struct control_vgpu *v, size_t n, double uptime_s)
{
	json_object *root = json_object_new_object(), *m = json_object_new_object(), *arr = json_object_new_array();
	char *out;

	json_object_object_add(m, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(m, "uptime_s", json_object_new_double(uptime_s));
	json_object_object_add(m, "virgl", json_object_new_boolean(gvirgl_ready()));
	json_object_object_add(m, "gl_renderer", json_object_new_string(gvirgl_gl_renderer()));
	json_object_object_add(m, "platform", json_object_new_string(gvirgl_platform()));
	json_object_object_add(root, "mediator", m);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, vgpu_json(&v[i]));
	json_object_object_add(root, "vgpus", arr);
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}
