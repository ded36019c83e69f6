/* judge.c: a job's status from what the agent said and the workload printed: the path its GL or KMS went
 * through, a software fallback, the size it rendered at, the exit status and the metrics it must have. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "run/run_state.h"
#include "store/store.h"
#include "util.h"

static int contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

/* A GL renderer string of Mesa's CPU renderers. */
static int software_renderer(const char *renderer)
{
	return contains_ci(renderer, "llvmpipe") || contains_ci(renderer, "softpipe") || contains_ci(renderer, "swrast");
}

/* A sized workload's result compares only at the size planned: a guest's is output 1's mode when the plan gives
 * [guest] displays (each output's EDID, the mediator's or the harness's, offers its mode alone), else the
 * harness's EDID's 640x480; the host's and dom0's render off-screen at WL_PLANNED_SIZE. 1 when it rendered there,
 * else 0 with the reason. */
static int size_as_planned(const struct run *r, enum seat_path where, const struct wl_result *wr, char *reason,
			   size_t rlen)
{
	int from_plan = where == SEAT_GUEST && r->plan.ndisplays > 0;
	int w = from_plan ? r->plan.displays[0].width : WL_PLANNED_WIDTH;
	int h = from_plan ? r->plan.displays[0].height : WL_PLANNED_HEIGHT;

	if (wl_surface_is(wr->surface, w, h))
		return 1;
	snprintf(reason, rlen, "rendered at '%s', planned %dx%d (%s)", wr->surface, w, h,
		 from_plan ? "output 1's mode in [guest] displays" : "the harness's size");
	return 0;
}

/*
 * Decide a job's status from what the agent said and what the workload
 * printed. Returns the status; fills reason. A job on the host must not have
 * gone through virgl nor fallen back to software on a host that has a GPU; a
 * dom0 job served through vtest must have gone through virgl; a guest job
 * must use the config's path (kms: the KMS driver its 2D jobs must show).
 */
static const char *judge_job(struct run *r, const struct config_def *c, enum seat_path where, const char *kms,
			     const struct workload_def *w, const struct job_result *jr, struct wl_result *wr,
			     char *reason, size_t rlen)
{
	int on_host = where != SEAT_GUEST;

	int parsed;

	memset(wr, 0, sizeof(*wr));
	if (strcmp(jr->status, "exited") == 0 && jr->code == WL_EXIT_SKIP) {
		const char *why = jr->out ? strstr(jr->out, "skip: ") : NULL;
		size_t n = why ? strcspn(why + 6, "\n") : 0;

		snprintf(reason, rlen, "%.*s", (int)(n ? n : 40), n ? why + 6 : "the workload skipped itself");
		return "skipped";
	}
	if (strcmp(jr->status, "timeout") == 0) {
		snprintf(reason, rlen, "timed out after %.0f s", r->plan.job_timeout_s);
		return "timeout";
	}
	if (strcmp(jr->status, "exited") != 0 || jr->code != 0) {
		parsed = w->parse(jr->out ? jr->out : "", jr->out_len, wr);
		if (jr->error[0])
			snprintf(reason, rlen, "%s", jr->error);
		else if (strcmp(jr->status, "signaled") == 0)
			snprintf(reason, rlen, "%s killed by signal %d%s%.400s", w->name, jr->signal, parsed < 0 ? "; " : "",
				 parsed < 0 ? wr->error : "");
		else if (strcmp(jr->status, "exited") == 0)
			snprintf(reason, rlen, "%s exited with code %d%s%.400s", w->name, jr->code, parsed < 0 ? "; " : "",
				 parsed < 0 ? wr->error : "");
		else
			snprintf(reason, rlen, "job %s", jr->status);
		wr->n = 0;
		return "failed";
	}
	if (w->parse(jr->out ? jr->out : "", jr->out_len, wr) < 0) {
		snprintf(reason, rlen, "%s", wr->error);
		wr->n = 0;
		return "failed";
	}
	if (w->sized && !size_as_planned(r, where, wr, reason, rlen)) {
		wr->n = 0;
		return "failed";
	}
	/* The path must be the one the config promises. */
	if (w->path == WL_PATH_MEDIA || w->path == WL_PATH_NONE) {
		/* Software decode is a path of its own, named in every metric: never mixed with VA-API. A job that
		 * renders nothing has no path to check. */
		reason[0] = '\0';
		return "ok";
	}
	if (w->path == WL_PATH_KMS) {
		if (!on_host && kms && strcmp(wr->renderer, kms) != 0) {
			snprintf(reason, rlen, "wrong device: KMS driver is '%s', %s promises '%s'", wr->renderer,
				 c->name, kms);
			wr->n = 0;
			return "failed";
		}
		reason[0] = '\0';
		return "ok";
	}
	if (where == SEAT_VTEST && !contains_ci(wr->renderer, "virgl")) {
		snprintf(reason, rlen, "wrong GPU path: dom0's job should render through %s's vtest socket, GL_RENDERER "
			 "is '%s'", c->name, wr->renderer);
		wr->n = 0;
		return "failed";
	}
	if (where == SEAT_VTEST) {
		reason[0] = '\0';
		return "ok";
	}
	if (!on_host && c->guest_hw_gl && software_renderer(wr->renderer)) {
		snprintf(reason, rlen, "software fallback: GL_RENDERER is '%s' in a guest that owns the GPU",
			 wr->renderer);
		wr->n = 0;
		return "failed";
	}
	if (!on_host && c->guest_renderer && !contains_ci(wr->renderer, c->guest_renderer)) {
		snprintf(reason, rlen, "wrong GPU path: GL_RENDERER is '%s', %s promises '%s'", wr->renderer, c->name,
			 c->guest_renderer);
		wr->n = 0;
		return "failed";
	}
	if (on_host) {
		int software = software_renderer(wr->renderer);

		if (contains_ci(wr->renderer, "virgl")) {
			snprintf(reason, rlen, "wrong GPU path: native job rendered through '%s'", wr->renderer);
			wr->n = 0;
			return "failed";
		}
		if (software && r->host.has_render_node) {
			snprintf(reason, rlen, "software fallback: GL_RENDERER is '%s' on a host with a GPU",
				 wr->renderer);
			wr->n = 0;
			return "failed";
		}
	}
	reason[0] = '\0';
	return "ok";
}

/* judge_job, and a job that is not ok keeps no metrics nor test statuses. */
const char *run_judge(struct run *r, const struct config_def *c, enum seat_path where, const char *kms,
		      const struct workload_def *w, const struct job_result *jr, struct wl_result *wr, char *reason,
		      size_t rlen)
{
	const char *st = judge_job(r, c, where, kms, w, jr, wr, reason, rlen);

	if (strcmp(st, "ok") != 0) {
		wl_result_free(wr);
		wr->n = 0;
		wr->artifact = NULL;
	}
	return st;
}
