/* gpu_backend.c: GPU back-ends of guest configurations (see the header). */
#define _GNU_SOURCE
#include "configs/gpu_backend.h"
#include "plan/plan.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "configs/configs.h"
#include "host/hostcheck.h"
#include "util.h"

int gpu_backend_wait_socket(const char *path, pid_t pid, double timeout_s)
{
	int fd = vb_unix_connect(path, vb_now() + timeout_s, pid);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int gpu_backend_sockets_fit(const char *dir)
{
	return strlen(dir) + sizeof("/mediator.control.sock") <= sizeof(((struct sockaddr_un *)0)->sun_path);
}

char *gpu_backend_display_props(const struct plan *p)
{
	if (!p || !p->ndisplays)
		return vb_strdup(",xres=640,yres=480");
	return vb_strdupf(",max_outputs=%d,xres=%d,yres=%d", p->ndisplays, p->displays[0].width,
			  p->displays[0].height);
}

int gpu_backend_vhost_user(struct gpu_backend *b, const struct backend_env *env, char *err, size_t errlen)
{
	const char *dir = env->sockdir ? env->sockdir : env->dir;

	if (!gpu_backend_sockets_fit(dir)) {
		snprintf(err, errlen, "the run folder's path is too long for unix sockets (%zu bytes): %s", strlen(dir),
			 dir);
		return -1;
	}
	for (int i = 0; i < b->n; i++) {
		int k = 0;

		snprintf(b->sock[i], sizeof(b->sock[i]), "%s/guest%d.vgpu.sock", dir, i + 1);
		unlink(b->sock[i]);
#define OWN(s) (b->args[i][k] = b->owned[i][k] = (s), k++)
#define ARG(s) (b->args[i][k++] = (s))
		ARG("-object");
		OWN(vb_strdupf("memory-backend-memfd,id=gmem,size=%dM,share=on", env->memory_mb));
		ARG("-numa");
		ARG("node,memdev=gmem");
		ARG("-chardev");
		OWN(vb_strdupf("socket,id=vgpu,path=%s", b->sock[i]));
		ARG("-device");
		{
			char *props = gpu_backend_display_props(env->plan);

			/* QEMU keeps the guest's count of scanouts (its max_outputs) whatever the back-end says. */
			OWN(vb_strdupf("vhost-user-gpu-pci,chardev=vgpu%s", props));
			free(props);
		}
		b->args[i][k] = NULL;
#undef OWN
#undef ARG
	}
	return 0;
}

int gpu_backend_start(struct gpu_backend *b, const struct config_def *c, int n, const struct backend_env *env,
		      char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->config, sizeof(b->config), "%s", c->name);
	b->n = n;
	b->snapshot = c->snapshot;
	b->stop = c->stop;
	if (n < 1 || n > GPU_BACKEND_MAX) {
		snprintf(err, errlen, "%d guests: between 1 and %d", n, GPU_BACKEND_MAX);
		return -1;
	}
	if (!c->start) {
		snprintf(err, errlen, "config %s has no GPU back-end here", c->name);
		return -1;
	}
	if (c->start(b, env, n, err, errlen) < 0) {
		gpu_backend_stop(b);
		return -1;
	}
	return 0;
}

const char *const *gpu_backend_args(const struct gpu_backend *b, int i)
{
	return i >= 0 && i < b->n ? b->args[i] : NULL;
}

int gpu_backend_counters(const struct gpu_backend *b, const char *path)
{
	return b->snapshot ? b->snapshot(b, path) : -1;
}

char *gpu_backend_request(const char *control, const char *line)
{
	return control && control[0] ? vb_unix_ask(control, line, 0, 0, GPU_BACKEND_MAX_ANSWER) : NULL;
}

int gpu_backend_snapshot(const struct gpu_backend *b, const char *path)
{
	char *doc = gpu_backend_request(b->control, "stats\n");
	struct vb_out out;

	if (!doc)
		return -1;
	if (vb_out_open(&out, path) < 0) {
		free(doc);
		return -1;
	}
	if (fputs(doc, out.f) == EOF) {
		vb_out_abort(&out);
		free(doc);
		return -1;
	}
	free(doc);
	return vb_out_commit(&out);
}

void gpu_backend_stop(struct gpu_backend *b)
{
	for (int i = 0; i < b->npid; i++)
		if (b->pid[i] > 0) {
			kill(b->pid[i], SIGTERM);
			vb_reap(b->pid[i], 5.0);
			b->pid[i] = 0;
		}
	b->npid = 0;
	/* After the processes (the guests are gone by now): what the config took, e.g. a device's binding. */
	if (b->stop)
		b->stop(b);
	b->stop = NULL;
	for (int i = 0; i < GPU_BACKEND_MAX; i++) {
		for (int k = 0; k < GPU_BACKEND_ARGS; k++) {
			free(b->owned[i][k]);
			b->owned[i][k] = NULL;
		}
		if (b->sock[i][0])
			unlink(b->sock[i]);
	}
	if (b->control[0])
		unlink(b->control);
}

struct pci_hold *gpu_backend_hold(struct gpu_backend *b, const struct backend_env *env, const char *name, char *err,
				  size_t errlen)
{
	char *journal = vb_strdupf("%s/%s", env->dir, name);
	struct pci_hold *h = pci_hold_open(env->host ? env->host->sysfs : NULL, journal, err, errlen);

	free(journal);
	b->priv = h;
	return h;
}

void gpu_backend_unhold(struct gpu_backend *b, pci_undo_fn undo, const char *what)
{
	char err[1024];

	if (pci_hold_release(b->priv, undo, err, sizeof(err)) < 0)
		vb_err("%s: %s; the next run's start tries again", what, err);
	b->priv = NULL;
}
