/* vtest_dev.h: one vtest client (Mesa's virpipe driver: dom0's own GL
 * programs) served as a vGPU. The vtest protocol (virglrenderer's vtest/,
 * as Debian's Mesa 22.3 speaks it) comes over a byte stream: an 8-byte header
 * (payload length, command) then the payload. Every message is checked
 * (command known, length exact or bounded, protocol version) before it is
 * carried out as the virtio-gpu commands a guest would send (gpu_device.h),
 * so a client gets the same checks, private resource and context IDs and
 * counters as a VM. Resources of protocol 2 live in shared memory the
 * mediator makes (a memfd sent to the client), attached as the resource's
 * backing; transfers copy between it and the renderer.
 *
 * Served: CREATE_RENDERER (must come first), PING_PROTOCOL_VERSION,
 * PROTOCOL_VERSION (up to 2), GET_CAPS, GET_CAPS2, RESOURCE_CREATE,
 * RESOURCE_CREATE2, RESOURCE_UNREF, TRANSFER_GET2, TRANSFER_PUT2, SUBMIT_CMD,
 * RESOURCE_BUSY_WAIT. Protocol 0 transfers (pixels through the socket) and
 * protocol 3 are not served. Any message that breaks the protocol, or a
 * command the vGPU refuses, ends the client alone, with the reason in why.
 *
 * A client's frame is a TRANSFER_GET2 of a resource it created to be shown
 * (display-target or scanout bind): Mesa's vtest winsys reads its front
 * buffer back that way on every SwapBuffers. It counts as a guest's
 * RESOURCE_FLUSH does (gpu_stats.flushes), so dom0's clients have frames
 * for the scheduler and per-frame stage times like any vGPU.
 *
 * Busy-wait is per client: busy while its own fenced submissions have not
 * retired. A waiting busy-wait is answered from vtest_fences_done, so the
 * event loop never blocks on one client. */
#ifndef VGPU_VTEST_DEV_H
#define VGPU_VTEST_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "device/gpu_device.h"
#include "device/idmap.h"

#define VTEST_VERSION 2                   /* the highest protocol version served */
#define VTEST_MAX_NAME 1024               /* CREATE_RENDERER's name, bytes */
#define VTEST_MAX_SHM_BYTES (1ull << 30)  /* shared memory one client may hold */
#define VTEST_MAX_RES_BYTES 0x7fff0000u   /* one resource's shared memory */
#define VTEST_IN_MAX (8 + GPU_MAX_SUBMIT) /* the longest message: a submit of GPU_MAX_SUBMIT bytes */

struct vtest_dev {
	int fd;
	struct gpu_device *g;
	int named;           /* CREATE_RENDERER came */
	int version;         /* the protocol version agreed (0 until PROTOCOL_VERSION) */
	int ctx;             /* the client's one renderer context exists (guest context 1) */
	int owe_busy;        /* a RESOURCE_BUSY_WAIT waits for the client's fences to retire */
	/* A transfer a renderer carries out later (a render worker) holds the client until the fence after it retires
	 * (nothing of its is served meanwhile, so: until none is pending): its next message is served once the transfer
	 * is done, as virglrenderer's own server has it. */
	int held;
	char name[64];       /* what CREATE_RENDERER said (the client's program) */
	uint8_t *in;         /* bytes read: [off, len) not yet served */
	size_t off, len, cap;
	struct idmap shm;    /* resource ID -> its shared memory (struct vtest_shm) */
	uint64_t shm_bytes;
	uint32_t fence;
	uint64_t messages;   /* served */
	char why[224];       /* why the client is dropped */
};

/* Serve client fd (the caller keeps it open and closes it after vtest_free) on vGPU g, which gpu_device_init
 * set up without a vdev: backings then resolve in the client's shared memory. */
void vtest_init(struct vtest_dev *t, int fd, struct gpu_device *g);

/* Read what the client sent, without waiting. 1 when something came (or nothing was waiting), 0 when the client
 * closed, -1 on an error (why). Reads nothing while vtest_want_read says no. */
int vtest_read(struct vtest_dev *t);

/* Does the client need reading: no reply is owed, and the buffer lacks a whole message or has room. */
int vtest_want_read(const struct vtest_dev *t);

/* A whole message waits and may be served now. */
int vtest_has_work(const struct vtest_dev *t);

/* Serve up to budget whole messages: how many were served, or -1 when the client must be dropped (why). */
int vtest_serve(struct vtest_dev *t, int budget);

/* The vGPU's fences retired: answer an owed busy-wait once none of the client's is left. 0, or -1 (why). */
int vtest_fences_done(struct vtest_dev *t);

/* Drop the client's vGPU state (gpu_device_free) and then its shared memory. */
void vtest_free(struct vtest_dev *t);

/* Serve a whole byte string as a client would send it (the fuzzer's entry: replies go to fd, which may be -1).
 * How many messages were served, or -1 (why). */
int vtest_feed(struct vtest_dev *t, const uint8_t *data, size_t len);

#endif
