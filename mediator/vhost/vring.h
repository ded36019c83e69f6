/* vring.h: a split virtqueue (virtio 1.2 §2.7) as the device side sees it,
 * over guest memory the guest controls. Every index, address and length is
 * checked before use; a malformed ring marks the queue broken (the device
 * then sets NEEDS_RESET) and never takes the process down. */
#ifndef VGPU_VRING_H
#define VGPU_VRING_H

#include <stdint.h>
#include <sys/uio.h>

#include "vhost/guest_mem.h"

#define VRING_MAX_SIZE 32768
#define VRING_MAX_SEGS 64 /* buffers per request the device accepts */

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring {
	uint16_t num;
	int event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	const uint8_t *desc; /* num descriptors of 16 bytes, copied out before use */
	uint16_t *avail;     /* flags, idx, ring[num], used_event */
	uint8_t *used;   /* flags, idx, elems[num], avail_event */
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used;
	int signalled_valid;
	int broken;
	char why[160];
};

/* One request: the device-readable buffers, then the device-writable ones. */
struct vring_req {
	uint16_t head;
	struct iovec in[VRING_MAX_SEGS]; /* device reads (driver -> device) */
	int nin;
	struct iovec out[VRING_MAX_SEGS]; /* device writes (device -> driver) */
	int nout;
	uint64_t in_len, out_len;
};

/*
 * Set up a ring of num entries whose parts are at the front-end virtual
 * addresses desc/avail/used (as SET_VRING_ADDR gives them). num must be a
 * power of 2 up to 32768, the parts aligned (16/2/4) and inside guest memory.
 * 0, or -1 with the reason in vr->why.
 */
int vring_setup(struct vring *vr, const struct guest_mem *m, uint16_t num, uint64_t desc, uint64_t avail,
		uint64_t used, int event_idx);

/*
 * Take the next available request. 1 with *req filled, 0 when none is
 * pending, -1 when the ring is malformed (vr->broken is then set, with the
 * reason in vr->why; nothing more is taken from it).
 */
int vring_pop(struct vring *vr, const struct guest_mem *m, struct vring_req *req);

/* Put the request the last vring_pop took back, unanswered: the next vring_pop takes it again. */
void vring_unpop(struct vring *vr);

/* Return a request with `written` bytes written to its device-writable buffers. */
void vring_push(struct vring *vr, uint16_t head, uint32_t written);

/* Should the driver be notified now (event index or the NO_INTERRUPT flag)? */
int vring_should_notify(struct vring *vr);

/*
 * Does the driver still wait for a signal it should have had? With the event
 * index only: 1 when its used_event names an entry the device has already
 * used (the driver asked to hear of it and has not read past it), with *state
 * set to what the driver and the device show (used_event, avail index, used
 * index), so that a caller can tell a driver at work (the state moves) from
 * one that missed its interrupt (the state stays). 0 otherwise.
 */
int vring_unheard(const struct vring *vr, uint64_t *state);

#endif
