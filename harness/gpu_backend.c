/* gpu_backend.c: GPU back-ends of guest configurations (see the header). */
#define _GNU_SOURCE
#include "gpu_backend.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

static const char *const virgl_args[] = { "-device", "virtio-gpu-gl-pci,xres=640,yres=480", "-display", "sdl,gl=on",
					  NULL };

/* Wait until a unix socket accepts connections (the back-end is ready), or the process died. */
static int wait_socket(const char *path, pid_t pid, double timeout_s)
{
	int fd = vb_unix_connect(path, vb_now() + timeout_s, pid);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static void vhost_args(struct gpu_backend *b, int i, int memory_mb)
{
	int k = 0;

#define OWN(s) (b->args[i][k] = b->owned[i][k] = (s), k++)
#define ARG(s) (b->args[i][k++] = (s))
	ARG("-object");
	OWN(vb_strdupf("memory-backend-memfd,id=gmem,size=%dM,share=on", memory_mb));
	ARG("-numa");
	ARG("node,memdev=gmem");
	ARG("-chardev");
	OWN(vb_strdupf("socket,id=vgpu,path=%s", b->sock[i]));
	ARG("-device");
	ARG("vhost-user-gpu-pci,chardev=vgpu,xres=640,yres=480");
	b->args[i][k] = NULL;
#undef OWN
#undef ARG
}

int gpu_backend_start(struct gpu_backend *b, const char *config, int n, const char *dir, const char *mediator,
		      const char *vhost_user_gpu, int memory_mb, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->config, sizeof(b->config), "%s", config);
	b->n = n;
	if (n < 1 || n > GPU_BACKEND_MAX) {
		snprintf(err, errlen, "%d guests: between 1 and %d", n, GPU_BACKEND_MAX);
		return -1;
	}
	if (!strcmp(config, "qemu-virgl")) {
		for (int i = 0; i < n; i++)
			memcpy(b->args[i], virgl_args, sizeof(virgl_args));
		snprintf(b->description, sizeof(b->description), "QEMU's built-in virtio-gpu-gl-pci");
		return 0;
	}
	if (strlen(dir) + sizeof("/mediator.control.sock") > sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "the run folder's path is too long for unix sockets (%zu bytes): %s", strlen(dir),
			 dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(b->sock[i], sizeof(b->sock[i]), "%s/guest%d.vgpu.sock", dir, i + 1);
		unlink(b->sock[i]);
		vhost_args(b, i, memory_mb);
	}
	if (!strcmp(config, "mediated")) {
		char *argv[8 + 2 * GPU_BACKEND_MAX];
		char *specs[GPU_BACKEND_MAX];
		int k = 0;

		snprintf(b->control, sizeof(b->control), "%s/mediator.control.sock", dir);
		snprintf(b->log[0], sizeof(b->log[0]), "%s/mediator.log", dir);
		unlink(b->control);
		argv[k++] = (char *)mediator;
		argv[k++] = "--control";
		argv[k++] = b->control;
		for (int i = 0; i < n; i++) {
			specs[i] = vb_strdupf("name=guest%d,socket=%s", i + 1, b->sock[i]);
			argv[k++] = "--vgpu";
			argv[k++] = specs[i];
		}
		argv[k] = NULL;
		b->pid[0] = vb_spawn(argv, NULL, b->log[0]);
		for (int i = 0; i < n; i++)
			free(specs[i]);
		if (b->pid[0] <= 0) {
			snprintf(err, errlen, "cannot start %s: %s", mediator, strerror(errno));
			gpu_backend_stop(b);
			return -1;
		}
		b->npid = 1;
		if (wait_socket(b->control, b->pid[0], 20) < 0) {
			snprintf(err, errlen, "vgpu-mediator did not come up (see %s)", b->log[0]);
			gpu_backend_stop(b);
			return -1;
		}
		snprintf(b->description, sizeof(b->description), "one vgpu-mediator process for %d guest%s", n,
			 n > 1 ? "s" : "");
		return 0;
	}
	if (!strcmp(config, "qemu-vhost-user-gpu")) {
		for (int i = 0; i < n; i++) {
			char *sockarg = vb_strdupf("--socket-path=%s", b->sock[i]);
			char *argv[] = { (char *)vhost_user_gpu, sockarg, NULL };

			snprintf(b->log[i], sizeof(b->log[i]), "%s/guest%d.vhost-user-gpu.log", dir, i + 1);
			b->pid[i] = vb_spawn(argv, NULL, b->log[i]);
			free(sockarg);
			if (b->pid[i] <= 0) {
				snprintf(err, errlen, "cannot start %s: %s", vhost_user_gpu, strerror(errno));
				gpu_backend_stop(b);
				return -1;
			}
			b->npid = i + 1;
		}
		for (int i = 0; i < n; i++)
			if (access(b->sock[i], F_OK) < 0) {
				/* QEMU's back-end serves one connection: probing it would use it up, so wait for the file. */
				double until = vb_now() + 20;

				while (access(b->sock[i], F_OK) < 0 && vb_now() < until && kill(b->pid[i], 0) == 0)
					usleep(20000);
				if (access(b->sock[i], F_OK) < 0) {
					snprintf(err, errlen, "QEMU's vhost-user-gpu did not come up (see %s)", b->log[i]);
					gpu_backend_stop(b);
					return -1;
				}
			}
		snprintf(b->description, sizeof(b->description), "QEMU's vhost-user-gpu, one process per guest (2D)");
		return 0;
	}
	snprintf(err, errlen, "config %s has no GPU back-end here", config);
	gpu_backend_stop(b);
	return -1;
}

const char *const *gpu_backend_args(const struct gpu_backend *b, int i)
{
	return i >= 0 && i < b->n ? b->args[i] : NULL;
}

int gpu_backend_snapshot(const struct gpu_backend *b, const char *path)
{
	struct timeval tv = { 2, 0 };
	char buf[65536];
	struct vb_out out;
	int fd, ok = 0;

	if (!b->control[0] || (fd = vb_unix_connect(b->control, 0, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (vb_out_open(&out, path) < 0) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0) {
			ok = r == 0;
			break;
		}
		if (fwrite(buf, 1, (size_t)r, out.f) != (size_t)r)
			break;
	}
	close(fd);
	if (!ok) {
		vb_out_abort(&out);
		return -1;
	}
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
