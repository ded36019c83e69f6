/* vhost_dev.h: one vGPU's vhost-user back-end state: the connection to its
 * front-end (QEMU), negotiated features, the guest memory it shares, and its
 * virtqueues with their kick/call eventfds. The device model (virtio-gpu) plugs
 * in as a request handler; this layer owns the protocol. */
#ifndef VGPU_VHOST_DEV_H
#define VGPU_VHOST_DEV_H

#include <stdint.h>

#include "vhost/guest_mem.h"
#include "vhost/vhost_msg.h"
#include "vhost/vring.h"

#define VDEV_MAX_QUEUES 2

#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1 32

#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_CONFIG 9
#define VHOST_USER_PROTOCOL_F_RESET_DEVICE 13

struct vdev_queue {
	uint16_t num;
	uint64_t desc, avail, used;
	int addr_set;
	uint16_t base;
	int kick_fd, call_fd;
	int enabled;
	int started;
	int put_back; /* the handler put a request back (VDEV_RETRY): vdev_serve stopped there */
	struct vring vr;
	/* vdev_resignal's watch of a driver waiting unheard: what its ring showed, since when, signalled again */
	uint64_t unheard_state, unheard_since;
	int unheard_watched, unheard_sent;
};

/* Handle one request of queue qi; returns the bytes written into req's writable buffers, VDEV_DEFERRED when the
 * request completes later (vdev_complete), or VDEV_RETRY when it cannot be served now without waiting: it is put
 * back on the ring untouched, and vdev_serve stops (q->put_back) until the caller serves the queue again. */
typedef uint32_t (*vdev_handler)(void *ctx, unsigned qi, struct vring_req *req);
#define VDEV_DEFERRED UINT32_MAX
#define VDEV_RETRY (UINT32_MAX - 1)

/*
 * What the device layer hears of besides requests:
 *  VDEV_RING_STOPPING  GET_VRING_BASE on queue qi: the front-end waits for the reply, and a stopped ring
 *                      takes no completion, so finish (vdev_complete) what is in flight on it now.
 *  VDEV_DEVICE_RESET   the driver reset the device (d->reset_why says how that was known): drop every
 *                      resource, context, scanout and fence; the rings start afresh.
 *  VDEV_MEM_REMAPPED   SET_MEM_TABLE replaced the guest memory map: d->mem is the new one, and the old one is
 *                      unmapped when the hook returns. Everything that points into guest memory outside this
 *                      layer (backings, and what the renderer was given of them) moves to the new map now.
 * How a reset is told from a pause (QMP stop/cont stops and restarts the rings too): see docs/mediator.md.
 */
enum vdev_event { VDEV_RING_STOPPING, VDEV_DEVICE_RESET, VDEV_MEM_REMAPPED };
typedef void (*vdev_event_hook)(void *ctx, enum vdev_event ev, unsigned qi);

/* Where a ring was when GET_VRING_BASE stopped it. */
struct vdev_stop {
	int valid;
	uint16_t base;
	uint64_t desc, avail, used;
};

/* The front-end wrote config bytes [offset, offset + size) (already copied into config). 0 accept, -1 refuse. */
typedef int (*vdev_config_hook)(void *ctx, uint8_t *config, uint32_t offset, uint32_t size);

struct vdev {
	int sock;
	uint64_t offered, features;
	uint64_t protocol_offered, protocol;
	int owned;
	struct guest_mem mem;
	struct vdev_queue q[VDEV_MAX_QUEUES];
	unsigned nqueues;
	int gpu_sock; /* the front-end's display channel (GPU_SET_SOCKET), -1 until given */
	uint8_t config[VHOST_MSG_MAX_CONFIG];
	uint32_t config_len;
	vdev_handler handler;
	vdev_config_hook config_hook; /* NULL: the config space is read-only */
	void *ctx;
	vdev_event_hook event_hook; /* NULL: nobody listens */
	void *event_ctx;
	struct vdev_stop stopped[VDEV_MAX_QUEUES];
	int reset_armed;       /* a ring was stopped: its restart tells a reset from a pause */
	uint64_t ring_stops;   /* GET_VRING_BASE received */
	uint64_t resumes;      /* stopped rings that all restarted where they stopped (a pause) */
	uint64_t mem_kept;     /* SET_MEM_TABLE that repeated the table in force (kept, not remapped) */
	uint64_t resignals;    /* signals sent again to a driver that waited unheard (vdev_resignal) */
	char reset_why[128];   /* how the last reset was known */
	char last_msg[160];    /* the last message, described (vhost_msg_describe) */
	uint32_t gen;     /* changes whenever a ring is reset or guest memory remapped */
	struct vhost_rx rx; /* the front-end's message in progress */
	char why[256]; /* why the last message or queue failed */
};

/* A back-end on connected socket sock, offering `features` (virtio device bits) and a config space. */
void vdev_init(struct vdev *d, int sock, unsigned nqueues, uint64_t features, const void *config, uint32_t config_len,
	       vdev_handler handler, void *ctx);

/*
 * Take what the front-end has sent (never waiting) and act on a message once
 * it is whole. 1 handled (a refused message is answered with a failure when
 * the front-end asked for an ack, and recorded in d->why), 2 the message is
 * not whole yet (call again when the socket is readable), 0 the front-end
 * closed the connection, -1 the connection is unusable (framing broken): the
 * caller drops this vGPU, and only this one.
 */
int vdev_handle_msg(struct vdev *d);

/* Serve queue qi after a kick: every available request through the handler, then notify if due.
 * Returns the requests taken, or -1 when the ring is broken. */
int vdev_process_queue(struct vdev *d, unsigned qi);

/* Take up to budget (<= 0: all) available requests of queue qi, without reading the kick. As above; it stops at a
 * request the handler put back (d->q[qi].put_back). */
int vdev_serve(struct vdev *d, unsigned qi, int budget);

/* Complete a deferred request of queue qi taken while d->gen was `gen`; dropped (0) when the ring was
 * reset or remapped since. 1 completed, 0 dropped, -1 notifying failed. */
int vdev_complete(struct vdev *d, unsigned qi, uint16_t head, uint32_t written, uint32_t gen);

/*
 * A lost interrupt's cure: every running queue whose driver waits for a signal it should have had (vring_unheard)
 * while nothing on its ring moves for after_ns gets one more signal (a spurious one costs a driver a look at its
 * ring). Call it now and then; now_ns on a monotonic clock. Returns the queues signalled again (d->resignals counts
 * them), -1 when a signal could not be written; *watched is set when a queue is still being watched (call again).
 */
int vdev_resignal(struct vdev *d, uint64_t now_ns, uint64_t after_ns, int *watched);

/* Release everything of this vGPU (mappings, fds); the socket is closed too. */
void vdev_free(struct vdev *d);

#endif
