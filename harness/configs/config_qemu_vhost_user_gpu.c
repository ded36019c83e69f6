/* config_qemu_vhost_user_gpu.c: peer baseline, QEMU's own vhost-user-gpu
 * back-end (Debian: qemu-system-gui), one process per guest; 2D only
 * without a render node, so GL jobs fail there as "wrong GPU path". */
#define _GNU_SOURCE
#include "configs/configs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configs/gpu_backend.h"
#include "host/hostcheck.h"
#include "util.h"

static const char *skip_reason(const struct host *h, const struct plan *p, char *buf, size_t len)
{
	(void)h;
	(void)p;
	(void)buf;
	(void)len;
	return access(HOST_VHOST_USER_GPU, X_OK) == 0
		       ? NULL
		       : "QEMU's vhost-user-gpu back-end is not installed (" HOST_VHOST_USER_GPU ", package qemu-system-gui)";
}

/* QEMU's back-end serves one connection: probing its socket would use it up, so wait for the file. */
static int wait_file(const char *path, pid_t pid, double timeout_s)
{
	double until = vb_now() + timeout_s;

	while (access(path, F_OK) < 0 && vb_now() < until && !vb_exited(pid))
		usleep(20000);
	return access(path, F_OK);
}

static int start(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen)
{
	if (gpu_backend_vhost_user(b, env, err, errlen) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char *sockarg = vb_strdupf("--socket-path=%s", b->sock[i]);
		char *argv[] = { HOST_VHOST_USER_GPU, sockarg, NULL };

		snprintf(b->log[i], sizeof(b->log[i]), "%s/guest%d.vhost-user-gpu.log", env->dir, i + 1);
		b->pid[i] = vb_spawn(argv, NULL, b->log[i]);
		free(sockarg);
		if (b->pid[i] <= 0) {
			snprintf(err, errlen, "cannot start %s: %s", HOST_VHOST_USER_GPU, strerror(errno));
			return -1;
		}
		b->npid = i + 1;
	}
	for (int i = 0; i < n; i++)
		if (wait_file(b->sock[i], b->pid[i], 20) < 0) {
			snprintf(err, errlen, "QEMU's vhost-user-gpu did not come up (see %s)", b->log[i]);
			return -1;
		}
	snprintf(b->description, sizeof(b->description), "QEMU's vhost-user-gpu, one process per guest (2D)");
	return 0;
}

const struct config_def config_qemu_vhost_user_gpu = {
	.name = "qemu-vhost-user-gpu",
	.kind = CONFIG_GUEST,
	.description = "peer baseline: QEMU's own vhost-user-gpu back-end, one per guest",
	.peer = 1,
	.guest_renderer = "virgl",
	.guest_kms_driver = "virtio_gpu",
	.skip_reason = skip_reason,
	.start = start,
};
