/* config_mediated.c: guests on -device vhost-user-gpu-pci (RAM shared as
 * memfd), all served by one vgpu-mediator process: one vGPU socket per
 * guest, a vtest socket for dom0's own GL clients (its vGPU, "dom0") and one
 * control socket whose counters are kept with the run. */
#define _GNU_SOURCE
#include "configs/configs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configs/gpu_backend.h"
#include "plan/plan.h"
#include "util.h"

static const char *skip_reason(const struct host *h, const struct plan *p, char *buf, size_t len)
{
	(void)h;
	(void)p;
	snprintf(buf, len, "%s/vgpu-mediator", vb_exe_dir());
	return access(buf, X_OK) == 0 ? NULL : "vgpu-mediator is not built (run make)";
}

/* A vGPU's outputs for plan p's [guest] displays (",outputs=N,modes=WxH:WxH"; "" without), malloc'd. */
static char *display_spec(const struct plan *p)
{
	char modes[PLAN_MAX_DISPLAYS * 12] = "";
	size_t used = 0;

	if (!p || !p->ndisplays)
		return vb_strdup("");
	for (int i = 0; i < p->ndisplays && used < sizeof(modes); i++)
		used += (size_t)snprintf(modes + used, sizeof(modes) - used, "%s%dx%d", i ? ":" : "",
					 p->displays[i].width, p->displays[i].height);
	return vb_strdupf(",outputs=%d,modes=%s", p->ndisplays, modes);
}

static int start(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen)
{
	char *argv[24 + 2 * GPU_BACKEND_MAX];
	char *specs[GPU_BACKEND_MAX], *dom0, *outputs;
	char slice[16], watchdog[16], throttle[16], fps[16], disp[32];
	const struct plan_mediator *m = env->sched;
	int k = 0;

	if (gpu_backend_vhost_user(b, env, err, errlen) < 0)
		return -1;
	const char *sockdir = env->sockdir ? env->sockdir : env->dir;

	snprintf(b->control, sizeof(b->control), "%s/mediator.control.sock", sockdir);
	snprintf(b->log[0], sizeof(b->log[0]), "%s/mediator.log", env->dir);
	snprintf(b->vtest, sizeof(b->vtest), "%s/vtest.sock", sockdir);
	unlink(b->control);
	argv[k++] = (char *)env->mediator;
	argv[k++] = "--control";
	argv[k++] = b->control;
	if (m && plan_policy_name(m->policy)) {
		argv[k++] = "--policy";
		argv[k++] = (char *)plan_policy_name(m->policy);
	}
	if (m && m->timeslice_ms) {
		snprintf(slice, sizeof(slice), "%d", m->timeslice_ms);
		argv[k++] = "--timeslice-ms";
		argv[k++] = slice;
	}
	if (m && m->watchdog_set) {
		snprintf(watchdog, sizeof(watchdog), "%d", m->watchdog_ms);
		argv[k++] = "--watchdog-ms";
		argv[k++] = watchdog;
	}
	if (m && m->watchdog_quarantine) {
		argv[k++] = "--watchdog-action";
		argv[k++] = "quarantine";
	}
	if (m && m->throttle_pct) {
		snprintf(throttle, sizeof(throttle), "%d", m->throttle_pct);
		argv[k++] = "--throttle";
		argv[k++] = throttle;
	}
	if (m && m->render_workers)
		argv[k++] = "--render-workers";
	if (m && m->display_fps_set) {
		snprintf(fps, sizeof(fps), "%d", m->display_fps);
		argv[k++] = "--display-fps";
		argv[k++] = fps;
	}
	outputs = display_spec(env->plan);
	for (int i = 0; i < n; i++) {
		int g = i + 1, w = m && g <= PLAN_MAX_GUEST ? m->weight[g] : 0;
		double fps = m && g <= PLAN_MAX_GUEST ? m->target_fps[g] : 0;
		char mem[32] = "";

		/* Each guest's vGPU is named guestN: the plan's weights and targets, the runner's counters. */
		if (m && g <= PLAN_MAX_GUEST && m->vgpu_mem_mb[g])
			snprintf(mem, sizeof(mem), ",mem=%d", m->vgpu_mem_mb[g]);
		specs[i] = vb_strdupf("name=guest%d,socket=%s,weight=%d,fps=%g%s%s", g, b->sock[i], w ? w : 1, fps, mem,
				      outputs);
		argv[k++] = "--vgpu";
		argv[k++] = specs[i];
	}
	/* The plan's weights and targets name guests from 1: dom0 keeps weight 1 and no target. */
	dom0 = vb_strdupf("name=dom0,socket=%s", b->vtest);
	argv[k++] = "--vtest";
	argv[k++] = dom0;
	argv[k] = NULL;
	b->pid[0] = vb_spawn(argv, NULL, b->log[0]);
	for (int i = 0; i < n; i++)
		free(specs[i]);
	free(dom0);
	free(outputs);
	if (b->pid[0] <= 0) {
		snprintf(err, errlen, "cannot start %s: %s", env->mediator, strerror(errno));
		return -1;
	}
	b->npid = 1;
	if (gpu_backend_wait_socket(b->control, b->pid[0], vb_scaled(20)) < 0) {
		snprintf(err, errlen, "vgpu-mediator did not come up (see %s)", b->log[0]);
		return -1;
	}
	if (m && m->display_fps_set && !m->display_fps)
		snprintf(disp, sizeof(disp), "on every flush");
	else
		snprintf(disp, sizeof(disp), "at most %d a second", m && m->display_fps_set ? m->display_fps : 60);
	snprintf(b->description, sizeof(b->description),
		 "one vgpu-mediator process for %d guest%s and dom0, %s, display updates %s%s%s%s", n, n > 1 ? "s" : "",
		 m && plan_policy_name(m->policy) ? plan_policy_name(m->policy) : "best-effort", disp,
		 m && m->throttle_pct ? ", throttled " : "", m && m->throttle_pct ? throttle : "",
		 m && m->throttle_pct ? "% on purpose (calibrate)" : "");
	return 0;
}

const struct config_def config_mediated = {
	.name = "mediated",
	.kind = CONFIG_GUEST,
	.role = ROLE_MEDIATED,
	.description = "guests served by one vgpu-mediator process over vhost-user-gpu, dom0's GL clients over vtest",
	.guest_renderer = "virgl",
	.guest_kms_driver = "virtio_gpu",
	.slowdown = "mediator throttle",
	.starts_mediator = 1,
	.device_edids = 1,
	.skip_reason = skip_reason,
	.start = start,
	.snapshot = gpu_backend_snapshot,
	.counters_file = "mediator-stats.json",
};
