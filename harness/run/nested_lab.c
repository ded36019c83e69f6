/* nested_lab.c: the passthrough path run inside a nested lab host (see the header). */
#define _GNU_SOURCE
#include "run/nested_lab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kms2d/kms2d_frames.h"
#include "vm/screen_watch.h"
#include "util.h"
#include "workload.h"

#define INNER_RESULTS "/tmp/vgpubench-lab/results" /* in the lab host's own tmpfs root */
#define INNER_REPORTS "/tmp/vgpubench-lab/reports"
/* The lab host's harness's time scale (util.h vb_time_scale): Xvfb, which starts in well under a second on this
 * host, once took more than 10 s inside the lab host under load (docs/lab-hosts.md, the nested lab). */
#define NESTED_LAB_TIME_SCALE "10"
#define SCREEN_PERIOD_S 0.5 /* kms2d's copy and flip phases show the frame for seconds */

/* One job on the lab host's agent; its stdout and stderr also go to log (NULL: none). */
static void lab_job(struct agent_conn *host, const char *const *argv, struct json_object *env, double timeout_s,
		    const char *log, struct job_result *res)
{
	struct agent_conn *cs[1] = { host };
	const char *const *argvs[1] = { argv };
	struct json_object *envs[1] = { env };
	const char *logs[1] = { log };

	agent_run_parallel(cs, 1, argvs, envs, timeout_s, logs, res);
}

/* The inner run's id and folder from its last "run ID: database DB, logs DIR" line. 0 or -1. */
static int inner_run_of(const char *out, char *id, size_t idlen, char *dir, size_t dirlen)
{
	const char *line = NULL;

	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "run ", 4) == 0 && strstr(p, ": database ") && strstr(p, ", logs "))
			line = p;
	if (!line)
		return -1;
	const char *colon = strchr(line + 4, ':'), *logs = strstr(line, ", logs ") + 7;
	size_t n = (size_t)(colon - line - 4), m = strcspn(logs, "\n");

	if (n == 0 || n >= idlen || m == 0 || m >= dirlen)
		return -1;
	memcpy(id, line + 4, n);
	id[n] = '\0';
	memcpy(dir, logs, m);
	dir[m] = '\0';
	return vb_is_identifier(id) ? 0 : -1;
}

/* The journal's story of the first device it names. */
static void read_journal(struct nested_lab *lab, const char *text)
{
	char *copy = vb_strdup(text ? text : ""), *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char b[16], d[32], o[32];

		if (!lab->bound && sscanf(l, "bind %15s %31s %31s", b, d, o) == 3) {
			snprintf(lab->device, sizeof(lab->device), "%s", b);
			snprintf(lab->driver_before, sizeof(lab->driver_before), "%s", strcmp(d, "-") ? d : "none");
			lab->bound = 1;
		} else if (lab->bound && sscanf(l, "restored %15s", b) == 1 && strcmp(b, lab->device) == 0) {
			lab->restored = 1;
		}
	}
	free(copy);
}

static double jnum(struct json_object *o, const char *key, double dflt)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
			       (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
		       ? json_object_get_double(v)
		       : dflt;
}

/* An exported job's metrics and test statuses into r. */
static void job_metrics(struct json_object *job, struct wl_result *r)
{
	struct json_object *m, *subs;

	memset(r, 0, sizeof(*r));
	if (json_object_object_get_ex(job, "metrics", &m) && json_object_is_type(m, json_type_object)) {
		json_object_object_foreach(m, name, v)
		{
			const char *unit = agent_json_str(v, "unit"), *dir = agent_json_str(v, "direction");
			double value = jnum(v, "value", NAN);
			struct wl_metric *x;

			if (r->n >= WL_MAX_METRICS || isnan(value) || strlen(name) >= sizeof(x->name))
				continue;
			x = &r->m[r->n++];
			snprintf(x->name, sizeof(x->name), "%s", name);
			snprintf(x->unit, sizeof(x->unit), "%s", unit ? unit : "");
			x->value = value;
			x->higher_is_better = !dir || strcmp(dir, "lower") != 0;
		}
	}
	if (json_object_object_get_ex(job, "subtests", &subs) && json_object_is_type(subs, json_type_object)) {
		size_t n = (size_t)json_object_object_length(subs);

		r->sub = calloc(n ? n : 1, sizeof(*r->sub));
		json_object_object_foreach(subs, name, v)
		{
			const char *st = json_object_get_string(v);

			if (!r->sub || r->nsub >= n || !st || strlen(st) >= sizeof(r->sub[0].status))
				continue;
			r->sub[r->nsub].name = vb_strdup(name);
			strcpy(r->sub[r->nsub].status, st);
			r->nsub++;
		}
	}
}

/* The inner run's export: count what came back, then store it (failed with `fail` when the path is not proven). */
static int import(struct nested_lab *lab, struct json_object *jobs, struct store *st, const char *run,
		  const char *config, int topology, const char *accel, char *const *logs, char *err, size_t errlen)
{
	size_t n = json_object_array_length(jobs);
	struct job_row *rows = calloc(n ? n : 1, sizeof(*rows));
	struct wl_result *res = calloc(n ? n : 1, sizeof(*res));
	char verdict[512];
	const char *fail;
	int rc = 0;

	if (!rows || !res) {
		snprintf(err, errlen, "out of memory for %zu jobs", n);
		free(rows);
		free(res);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *j = json_object_array_get_idx(jobs, i);
		const char *status = agent_json_str(j, "status"), *workload = agent_json_str(j, "workload");
		const char *renderer = agent_json_str(j, "renderer");

		if (!status || !workload)
			continue;
		lab->jobs++;
		lab->jobs_ok += strcmp(status, "ok") == 0;
		lab->kms_ok += strcmp(status, "ok") == 0 && strcmp(workload, "kms2d") == 0 && renderer && renderer[0];
	}
	fail = nested_lab_verdict(lab, verdict, sizeof(verdict));
	int k = 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *j = json_object_array_get_idx(jobs, i);
		const char *status = agent_json_str(j, "status"), *workload = agent_json_str(j, "workload");
		int proven_ok = status && strcmp(status, "ok") == 0 && !fail;

		if (!status || !workload || !workload_find(workload))
			continue;
		job_metrics(j, &res[k]);
		rows[k] = (struct job_row){
			.config = config,
			.topology = topology,
			.guest_index = (int)jnum(j, "guest", 1),
			.workload = workload,
			.repetition = (int)jnum(j, "repetition", 1),
			.status = proven_ok || strcmp(status, "ok") ? status : "failed",
			.reason = proven_ok || strcmp(status, "ok") ? agent_json_str(j, "reason") : fail,
			.accel = accel,
			.renderer = agent_json_str(j, "renderer"),
			.wall_s = jnum(j, "wall_s", -1),
			.user_s = jnum(j, "user_s", -1),
			.sys_s = jnum(j, "sys_s", -1),
			.maxrss_kb = (long long)jnum(j, "maxrss_kb", -1),
			.exit_code = (int)jnum(j, "exit_code", -1),
			.log_path = logs[i],
			.metrics = proven_ok ? &res[k] : NULL,
		};
		k++;
	}
	if (k && store_jobs(st, run, rows, k) < 0) {
		snprintf(err, errlen, "the inner run's jobs could not be stored: %s", st->err);
		rc = -1;
	}
	for (int i = 0; i < k; i++)
		wl_result_free(&res[i]);
	free(rows);
	free(res);
	return rc;
}

/* A path under the results folder as the store keeps it: relative to it. */
static char *results_rel(const struct nested_lab *lab, const char *path)
{
	size_t root = strlen(lab->results);

	return vb_strdup(strncmp(path, lab->results, root) == 0 && path[root] == '/' ? path + root + 1 : path);
}

/* An inner job's log, copied out of the lab host next to the inner run's own log; its path for the store (the inner
 * run's log when the job's cannot be had). */
static char *fetch_log(const struct nested_lab *lab, struct agent_conn *host, struct json_object *job,
		       const char *inner_log)
{
	const char *log = agent_json_str(job, "log"), *base = log ? strrchr(log, '/') : NULL;
	struct job_result res;
	char *from, *to, *rel;

	if (!log || strstr(log, "..") || log[0] == '/')
		return results_rel(lab, inner_log);
	from = vb_strdupf(INNER_RESULTS "/%s", log);
	to = vb_strdupf("%s/lab-%s", lab->dir, base ? base + 1 : log);
	const char *argv[] = { "cat", from, NULL };

	unlink(to);
	memset(&res, 0, sizeof(res));
	lab_job(host, argv, NULL, 60, to, &res);
	rel = strcmp(res.status, "exited") == 0 && res.code == 0 ? results_rel(lab, to) : results_rel(lab, inner_log);
	job_result_free(&res);
	free(from);
	free(to);
	return rel;
}

const char *nested_lab_verdict(const struct nested_lab *lab, char *buf, size_t len)
{
	if (!lab->bound)
		snprintf(buf, len, "nested lab: the inner run's journal shows no device bound to vfio-pci");
	else if (!lab->jobs_ok)
		snprintf(buf, len, "nested lab: no job of the inner run succeeded on the passed-through device");
	else if (lab->kms_ok && !lab->frame_seen)
		snprintf(buf, len, "nested lab: kms2d ran on the passed-through device, but its frame never reached the "
			 "outermost display");
	else if (!lab->restored || strcmp(lab->driver_after, lab->driver_before) != 0)
		snprintf(buf, len, "nested lab: %s was not given back to %s (its driver now: %s)", lab->device,
			 lab->driver_before, lab->driver_after[0] ? lab->driver_after : "unknown");
	else
		return NULL;
	return buf;
}

void nested_lab_evidence(const struct nested_lab *lab, char *buf, size_t len)
{
	const char *frame = lab->frame_seen ? "kms2d's frame seen on the outermost display"
					    : "no kms2d frame seen on the outermost display";

	/* Say what is known, never a "?" for a field nobody filled: a run that never completed reported nothing. */
	if (!lab->inner_run[0] && !lab->device[0]) {
		snprintf(buf, len,
			 "the lab host's run did not complete, so nothing is known of its device; %d of %d jobs ok "
			 "in its guest; %s",
			 lab->jobs_ok, lab->jobs, frame);
	} else {
		char before[64] = "", after[96];

		if (lab->driver_before[0])
			snprintf(before, sizeof(before), " from %s", lab->driver_before);
		if (!lab->restored)
			snprintf(after, sizeof(after), ", never restored%s%s",
				 lab->driver_after[0] ? ", its driver after: " : "", lab->driver_after);
		else
			snprintf(after, sizeof(after), " and restored, %s after (%s)",
				 lab->driver_after[0] ? lab->driver_after : "no driver",
				 !strcmp(lab->driver_after, lab->driver_before) ? "as before" : "not as before");
		snprintf(buf, len, "inner run %s: %s %s%s to vfio-pci%s; %d of %d jobs ok in its guest; %s",
			 lab->inner_run[0] ? lab->inner_run : "(it did not complete)",
			 lab->device[0] ? lab->device : "its device", lab->bound ? "bound" : "not bound", before, after,
			 lab->jobs_ok, lab->jobs, frame);
	}
	if (lab->frame_seen)
		snprintf(buf + strlen(buf), len - strlen(buf), " (%dx%d, pixel-exact, %.0f s in)", lab->frame_w,
			 lab->frame_h, lab->frame_s);
}

int nested_lab_run(struct nested_lab *lab, struct agent_conn *host, struct store *st, const char *run,
		   const char *config, int topology, const char *accel, char *err, size_t errlen)
{
	char *log = vb_strdupf("%s/lab-inner.log", lab->dir), *dump = vb_strdupf("%s/lab-screen.ppm", lab->dir);
	char dir[512], *journal = NULL, *driver = NULL, **logs = NULL;
	const char *run_argv[] = { lab->vgpubench, "run", lab->plan, "--results", INNER_RESULTS, "--reports", INNER_REPORTS,
				   NULL };
	struct json_object *env = json_object_new_object(), *doc = NULL, *jobs;
	struct screen_watch sw;
	struct job_result res;
	int watching, rc = -1;

	/* The lab host has no KVM of its own: its guest runs under TCG. */
	json_object_object_add(env, "VGPUBENCH_ACCEL", json_object_new_string("tcg"));
	/* The lab host is itself a TCG guest: its harness's own fixed limits (Xvfb's start, its agents' hello, the
	 * mediator's socket) take that much longer. */
	json_object_object_add(env, VB_TIME_SCALE_ENV, json_object_new_string(NESTED_LAB_TIME_SCALE));
	watching = screen_watch_start(&sw, lab->qmp, dump, KMS2D_COPY_XRGB, SCREEN_PERIOD_S) == 0;
	vb_log("  nested lab: the lab host runs vgpubench with %s (log: %s)", lab->plan, log);
	memset(&res, 0, sizeof(res));
	lab_job(host, run_argv, env, lab->timeout_s, log, &res);
	if (watching)
		screen_watch_stop(&sw);
	if (watching && sw.seen) {
		lab->frame_seen = 1;
		lab->frame_w = sw.w;
		lab->frame_h = sw.h;
		lab->frame_s = sw.seen_s;
	} else if (!watching) {
		vb_err("  nested lab: the outermost display could not be watched");
	} else if (sw.error[0]) {
		vb_err("  nested lab: %d screen dumps, the last failure: %s", sw.dumps, sw.error);
	}
	if (strcmp(res.status, "exited") != 0 || (res.code != 0 && res.code != 3) ||
	    inner_run_of(res.out ? res.out : "", lab->inner_run, sizeof(lab->inner_run), dir, sizeof(dir)) < 0) {
		snprintf(err, errlen, "the lab host's vgpubench did not complete its run (%s %d%s%s; see %s)", res.status,
			 res.code, res.error[0] ? ": " : "", res.error, log);
		goto out;
	}
	job_result_free(&res);

	/* Its export, then what became of the device. */
	const char *export_argv[] = { lab->vgpubench, "export", lab->inner_run, "--results", INNER_RESULTS,
				      "--format", "json", NULL };

	lab_job(host, export_argv, NULL, 120, NULL, &res);
	doc = res.out && strcmp(res.status, "exited") == 0 && res.code == 0 ? json_tokener_parse(res.out) : NULL;
	if (!doc || !json_object_object_get_ex(doc, "jobs", &jobs) || !json_object_is_type(jobs, json_type_array)) {
		snprintf(err, errlen, "the inner run %s could not be exported from the lab host (%s %d)", lab->inner_run,
			 res.status, res.code);
		goto out;
	}
	job_result_free(&res);
	/* The inner guest's console, for whoever reads this run. */
	{
		char *serial = vb_strdupf("%s/vms/%s-n1/guest1.serial.log", dir, config);
		char *keep = vb_strdupf("%s/lab-guest1.serial.log", lab->dir);
		const char *argv[] = { "cat", serial, NULL };

		unlink(keep);
		lab_job(host, argv, NULL, 60, keep, &res);
		job_result_free(&res);
		free(serial);
		free(keep);
	}
	/* The inner run is of the same configuration, one guest: its folder and journal are named after it. */
	journal = vb_strdupf("%s/vms/%s-n1/%s.journal", dir, config, config);
	const char *cat_argv[] = { "cat", journal, NULL };

	lab_job(host, cat_argv, NULL, 60, NULL, &res);
	read_journal(lab, res.out);
	job_result_free(&res);
	if (lab->bound) {
		driver = vb_strdupf("/sys/bus/pci/devices/%s/driver", lab->device);
		const char *link_argv[] = { "readlink", driver, NULL };

		lab_job(host, link_argv, NULL, 60, NULL, &res);
		if (res.out && strcmp(res.status, "exited") == 0 && res.code == 0) {
			const char *base = strrchr(res.out, '/') ? strrchr(res.out, '/') + 1 : res.out;

			snprintf(lab->driver_after, sizeof(lab->driver_after), "%.*s", (int)strcspn(base, "\n"), base);
		} else {
			snprintf(lab->driver_after, sizeof(lab->driver_after), "none");
		}
		job_result_free(&res);
	}
	size_t njobs = json_object_array_length(jobs);

	logs = calloc(njobs ? njobs : 1, sizeof(*logs));
	if (!logs) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < njobs; i++)
		logs[i] = fetch_log(lab, host, json_object_array_get_idx(jobs, i), log);
	rc = import(lab, jobs, st, run, config, topology, accel, logs, err, errlen);
	for (size_t i = 0; logs && i < njobs; i++)
		free(logs[i]);
	free(logs);
out:
	job_result_free(&res);
	json_object_put(env);
	json_object_put(doc);
	free(journal);
	free(driver);
	free(log);
	free(dump);
	return rc;
}
