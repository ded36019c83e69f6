/* gpu_backend.h: what serves a guest configuration's GPU: the QEMU device
 * arguments of each guest and the back-end processes, started by the
 * configuration's own start op (configs.h) with the helpers below. Back-ends
 * die with the harness (PDEATHSIG). */
#ifndef VGPUBENCH_GPU_BACKEND_H
#define VGPUBENCH_GPU_BACKEND_H

#include <stddef.h>
#include <sys/types.h>

#include "configs/configs.h"
#include "host/pci_vfio.h"

#define GPU_BACKEND_MAX 16
#define GPU_BACKEND_ARGS 14

struct gpu_backend {
	char config[32];
	int n;
	pid_t pid[GPU_BACKEND_MAX];
	int npid;
	char sock[GPU_BACKEND_MAX][512];
	char control[512];
	char vtest[512]; /* a socket serving dom0's GL clients too (vtest protocol), "" when the back-end has none */
	char log[GPU_BACKEND_MAX][512];
	char *owned[GPU_BACKEND_MAX][GPU_BACKEND_ARGS];
	const char *args[GPU_BACKEND_MAX][GPU_BACKEND_ARGS];
	char description[256]; /* what serves the guests, for the report */
	int (*snapshot)(const struct gpu_backend *b, const char *path); /* the config's counters op */
	void (*stop)(struct gpu_backend *b); /* the config's stop op */
	void *priv;                          /* the config's own state, for its stop op */
	/* The KMS driver the guests' 2D jobs must show, when the back-end knows it better than its config ("": the
	 * config's guest_kms_driver). */
	char kms_driver[32];
	/* The guests' shape, when the back-end needs its own ("" or 0: the plan's and vm.c's). */
	char machine[48];      /* QEMU machine type and its options */
	char kernel_args[128]; /* more for the guest kernel's command line */
	int memory_mb, vcpus;
	/* The guest is a lab host (nested_lab.h): the harness runs this plan file inside it with vgpubench and keeps
	 * that run's results, instead of running the workloads there itself ("": not a lab). */
	char lab_plan[512];
};

/*
 * Start what serves c's n guests (files under env->dir) through c->start.
 * 0, or -1 with the reason in err (nothing left running).
 */
int gpu_backend_start(struct gpu_backend *b, const struct config_def *c, int n, const struct backend_env *env,
		      char *err, size_t errlen);

/* QEMU arguments for guest i (0-based), NULL-terminated. */
const char *const *gpu_backend_args(const struct gpu_backend *b, int i);

/* The configuration's counters into path. 0, or -1 (it keeps none, or they could not be read). */
int gpu_backend_counters(const struct gpu_backend *b, const char *path);

/* Stop every back-end process and release the arguments. Safe to call twice. */
void gpu_backend_stop(struct gpu_backend *b);

/* For start ops. */

/* Wait until a unix socket accepts connections, or process pid died. 0 or -1. */
int gpu_backend_wait_socket(const char *path, pid_t pid, double timeout_s);

/* A QEMU virtio-gpu device's display properties for plan p (malloc'd): its outputs and the first one's mode with
 * [guest] displays (",max_outputs=N,xres=W,yres=H": QEMU's own devices take no mode for the others), else the
 * harness's one 640x480 output. */
char *gpu_backend_display_props(const struct plan *p);

/* vhost-user guests: a socket path per guest (b->sock) and the QEMU arguments
 * that share the guest's RAM as memfd with the back-end. 0, or -1 with err. */
int gpu_backend_vhost_user(struct gpu_backend *b, const struct backend_env *env, char *err, size_t errlen);

/* Do the back-ends' socket names (the longest: mediator.control.sock) fit a unix socket path in folder dir? */
int gpu_backend_sockets_fit(const char *dir);

/* Read the JSON a back-end's control socket (b->control) sends into path, written whole. 0 or -1. */
int gpu_backend_snapshot(const struct gpu_backend *b, const char *path);

/* The longest answer a control socket may give. */
#define GPU_BACKEND_MAX_ANSWER (4u << 20)

/* Send one request line to the control socket at `control` (vgpu-mediator's protocol, control.h); its answer
 * (malloc'd), or NULL when it could not be asked or did not answer whole within 2 s a read. */
char *gpu_backend_request(const char *control, const char *line);

/* A back-end that changes host devices (passthrough's binding, GVT-g's instances): its hold (pci_vfio.h) on the
 * kernel under env's sysfs, with the journal `name` in the boot's folder, kept in b->priv. The hold, or NULL with
 * why in err. */
struct pci_hold *gpu_backend_hold(struct gpu_backend *b, const struct backend_env *env, const char *name, char *err,
				  size_t errlen);
/* Undo what b's hold journaled (with undo) and let the hold go; what could not be undone is said after `what`, and
 * the journal keeps it for the next run's start. */
void gpu_backend_unhold(struct gpu_backend *b, pci_undo_fn undo, const char *what);

#endif
