/* gpu_device.h: the virtio-gpu device (virtio 1.2 §5.7) of one vGPU: command
 * decoding and validation, the vGPU's private resource and context ID spaces
 * mapped to the renderer's process-wide ones, scanouts and cursor, fences,
 * and per-vGPU counters. 2D resources live in host memory; when the vGPU
 * negotiated virgl, 3D resources live in its renderer (renderer.h), 3D
 * commands are served there, and a 2D resource moves there the first time
 * a 3D command uses it (a stream naming it, a 3D transfer; attaching it to a
 * context is not enough), or at once past the 2D memory limit. Nothing a guest
 * sends reaches the renderer before its sizes, IDs and ownership are checked. */
#ifndef VGPU_GPU_DEVICE_H
#define VGPU_GPU_DEVICE_H

#include <stdint.h>

#include "display/display_sender.h"
#include "device/gpu_display.h"
#include "device/idmap.h"
#include "stage_hist.h"
#include "vhost/vhost_dev.h"
#include "device/virtio_gpu.h"

#define GPU_CTRLQ 0
#define GPU_CURSORQ 1

/* Counters a vGPU keeps (read over the control socket). */
enum gpu_cmd_class {
	GC_DISPLAY_INFO,
	GC_RESOURCE_CREATE_2D,
	GC_RESOURCE_UNREF,
	GC_SET_SCANOUT,
	GC_RESOURCE_FLUSH,
	GC_TRANSFER_TO_HOST_2D,
	GC_ATTACH_BACKING,
	GC_DETACH_BACKING,
	GC_GET_CAPSET_INFO,
	GC_GET_CAPSET,
	GC_GET_EDID,
	GC_CTX_CREATE,
	GC_CTX_DESTROY,
	GC_CTX_ATTACH_RESOURCE,
	GC_CTX_DETACH_RESOURCE,
	GC_RESOURCE_CREATE_3D,
	GC_TRANSFER_TO_HOST_3D,
	GC_TRANSFER_FROM_HOST_3D,
	GC_SUBMIT_3D,
	GC_UPDATE_CURSOR,
	GC_MOVE_CURSOR,
	GC_UNKNOWN,
	GC_COUNT
};

struct gpu_stats {
	uint64_t cmds[GC_COUNT];
	uint64_t errors;          /* commands answered with an error */
	uint64_t bytes_to_host;   /* transferred guest -> host (2D and 3D transfers, submits) */
	uint64_t bytes_from_host; /* host -> guest */
	uint64_t render_ns;       /* time spent in renderer calls of commands (submits, transfers) */
	uint64_t fences, fence_ns_sum, fence_ns_max;
	uint64_t flushes;
	uint64_t display_coalesced; /* flushes folded into a later display update (the latest frame won) */
	uint64_t present_ns;        /* time spent on display updates (read-backs from the renderer, sends) */
	struct stage_hist stage[STAGE_COUNT]; /* where the time goes (stage_hist.h); kick_wait is the caller's */
	char last_error[192];
};

struct gpu_scanout {
	uint32_t resource_id; /* guest ID, 0 when disabled */
	struct virtio_gpu_rect r;
	int dirty;                     /* flushed, not yet sent to the display */
	int full;                      /* it changed: its next update carries all of it */
	struct virtio_gpu_rect damage; /* the bounding box of what was flushed since (resource coordinates) */
};

struct gpu_pending {
	uint32_t host_fence;
	uint16_t head;
	uint32_t written;
	uint32_t gen;
	uint64_t t0_ns;
};

/* Host pointer to [addr, addr + len) of a client that is no VM (vtest): its own address space for backings. */
typedef void *(*gpu_mem_at)(void *ctx, uint64_t addr, uint64_t len);

struct gpu_device {
	struct vdev *vdev;  /* the VM's vhost-user device; NULL for a host client (see mem_at) */
	/* A host client (a vtest connection, vtest_dev.h) sets these: backing addresses resolve through mem_at
	 * instead of guest RAM, and 3D is on whenever the renderer runs (there is no feature negotiation). */
	gpu_mem_at mem_at;
	void *mem_ctx;
	struct gpu_display disp;
	struct renderer *rnd; /* what renders its 3D (gpu_device_set_renderer); NULL: none, 2D only */
	int virgl;          /* the guest negotiated VIRTIO_GPU_F_VIRGL and the renderer runs */
	struct idmap res;   /* guest resource ID -> struct gpu_resource */
	struct idmap ctx;   /* guest context ID -> host context ID (as a pointer-sized integer) */
	uint64_t mem_2d;    /* bytes of 2D resource memory held */
	/* Its size (gpu_device_set_size), as a vGPU profile sets one: what its resources may hold together, 2D and 3D,
	 * 0 for no size; and what they hold (a 3D resource by the size its create asked for, gpu_resource.c). */
	uint64_t size_bytes;
	uint64_t charged;
	uint64_t res_to_renderer; /* 2D resources moved into the renderer when a 3D command first used them */
	uint64_t put_back; /* requests put back until its renderer's work was done (a call would have waited on it) */
	uint64_t backing_bytes;       /* guest memory its resources' backings reference */
	uint64_t backing_table_bytes; /* host memory for those backings' entry tables */
	uint64_t remaps;              /* guest memory remapped under it (gpu_device_mem_remapped) */
	uint64_t backings_moved;      /* backings looked up again in the new map */
	uint64_t backings_lost;       /* backings dropped: their memory was no longer in guest RAM */
	/* Its outputs (gpu_device_set_outputs): how many scanouts it serves, and the mode each offers (GPU_DEFAULT_*
	 * where none was given; without modes_given the front-end's display info and EDIDs are asked for first). Kept
	 * across resets. */
	uint32_t num_scanouts;
	struct gpu_output_mode {
		uint32_t width, height;
	} mode[VIRTIO_GPU_MAX_SCANOUTS];
	int modes_given;
	struct gpu_scanout scanout[VIRTIO_GPU_MAX_SCANOUTS];
	struct gpu_pending *pending;
	unsigned npending, cap_pending;
	uint8_t *flush_buf;
	uint64_t flush_cap;
	/* The display's refresh (gpu_device_set_display_interval): flushes are sent at most once an interval. */
	uint64_t display_interval_ns;
	uint64_t present_next_ns; /* the earliest the next update may go */
	/* The display update readied by gpu_device_present_prepare and put on the channel by a display-sender
	 * thread (gpu_device_present_send): while it is in flight (job.busy) the sender owns all of it, and the
	 * vGPU's channel is used by nothing else. */
	struct gpu_present_job {
		struct dsend_job job; /* its messages: each update, its scanout's size first where due */
		struct dsend_msg msg[2 * VIRTIO_GPU_MAX_SCANOUTS];
		unsigned n; /* updates readied; 0 once collected (gpu_device_present_collect) */
		struct gpu_present_update {
			unsigned first, last; /* its messages */
			uint64_t bytes;
			uint32_t scanout;
			struct virtio_gpu_rect damage, view; /* what goes, and what the scanout shows of the resource */
			const uint8_t *pixels;
			uint32_t convert; /* a read-back's format, converted once it is in; 0: as it is */
			int rc;           /* 1 while its read-back is under way (read_begin); -1 it never came; 0 ready */
		} u[VIRTIO_GPU_MAX_SCANOUTS];
		/* Read-backs under way from a renderer that renders later (renderer.h): the updates become messages
		 * once all are in, and the job cannot be handed over before. */
		unsigned reading;
		uint64_t read_t0;
		uint8_t *buf; /* read back or converted pixels, the vGPU's own: a resource may change or go meanwhile */
		uint64_t cap;
		/* Host-memory resources whose own pixels an update is sent from, with no copy. Such a resource is
		 * marked lent; a write to it meanwhile (or its going) leaves this buffer to the job (orphan), and the
		 * resource goes on in another. A lent buffer is given back when the job is taken in. */
		struct gpu_lent {
			uint8_t *pixels;
			uint64_t bytes;
			uint32_t res_id;
			int orphan;
		} lent[VIRTIO_GPU_MAX_SCANOUTS];
		unsigned nlent;
		int submitted; /* handed to the sender (gpu_device_present_send) */
	} present;
	uint8_t *spare; /* a buffer an update gave back, for the next resource written while lent */
	uint64_t spare_len;
	struct gpu_stats st;
};

/* Limits one vGPU lives within. */
#define GPU_MAX_RESOURCES 16384
#define GPU_MAX_CONTEXTS 256
#define GPU_MAX_DIM 16384
#define GPU_MAX_2D_BYTES (512ull << 20)
#define GPU_MAX_BACKING_ENTRIES 16384
#define GPU_MAX_SUBMIT (8u << 20)

/* The renderer of every vGPU set up (gpu_device_init) from now on; NULL (the default): 2D only, unless the caller
 * gives each vGPU its own (gpu_device.rnd, set after gpu_device_init: a render worker each). Setting one describes
 * it too. */
struct renderer;
void gpu_device_set_renderer(struct renderer *r);
struct renderer *gpu_device_renderer(void);

/* What every vGPU is told of its renderer (the capsets its config space offers) and the control socket shows:
 * taken from r now (NULL: no 3D). */
struct gpu_renderer_desc {
	int on;
	uint32_t capsets;
	char gl_renderer[192];
	char platform[160];
};
void gpu_device_describe(const struct renderer *r);
const struct gpu_renderer_desc *gpu_device_description(void);

/* The vGPU's size in bytes (0: none): a create that would take its resources past it is answered OUT_OF_MEMORY.
 * Kept across resets. */
void gpu_device_set_size(struct gpu_device *g, uint64_t bytes);

/* A mode an output offers when none is given and the front-end says nothing. */
#define GPU_DEFAULT_WIDTH 1024
#define GPU_DEFAULT_HEIGHT 768

/* Whether n outputs with the first nmodes modes given can be served (gpu_device_set_outputs' rules): 0, or -1 with
 * why. */
int gpu_outputs_check(uint32_t n, const struct gpu_output_mode *modes, uint32_t nmodes, char *why, size_t whylen);

/* The vGPU's outputs: n scanouts (1 to VIRTIO_GPU_MAX_SCANOUTS), the first nmodes (at most n) offering the modes
 * given, as preferred in their EDIDs and as the display info (the rest GPU_DEFAULT_*); with nmodes 0 the
 * front-end's display info and EDIDs are passed on, as with one output. Kept across resets. 0, or -1 with why. */
int gpu_device_set_outputs(struct gpu_device *g, uint32_t n, const struct gpu_output_mode *modes, uint32_t nmodes,
			   char *why, size_t whylen);

/* Bytes a RESOURCE_CREATE_3D asks for: every level, layer and sample at its format's size (formats of more than 4
 * bytes a texel as they are, every other at 4), a buffer its width. An upper bound for all but 64-bit formats. */
struct virtio_gpu_resource_create_3d;
uint64_t gpu_resource_3d_bytes(const struct virtio_gpu_resource_create_3d *m);

/* Features and config space a vGPU offers; with_virgl when the renderer runs. */
uint64_t gpu_device_features(int with_virgl);
void gpu_device_config(struct virtio_gpu_config *c, int with_virgl);

void gpu_device_init(struct gpu_device *g, struct vdev *vdev);
/* Drop every resource, context, pending fence and scanout (a disconnect or reset): only this vGPU's. A display update
 * in flight is not waited for (the front-end may await the answer to the message that reset the device without
 * reading its display meanwhile): it keeps what it sends from. gpu_device_free does wait for it. */
void gpu_device_reset(struct gpu_device *g);
void gpu_device_free(struct gpu_device *g);

/* The vGPU's guest memory was remapped (VDEV_MEM_REMAPPED): vdev->mem is the new map and the old one is still
 * mapped until this returns. Every backing is detached from the renderer (which may read it, or write query
 * results into it, until then), looked up again by its guest addresses in the new map and attached afresh; one
 * whose memory is no longer in guest RAM is dropped (backings_lost, last_error), as if the guest had detached it. */
void gpu_device_mem_remapped(struct gpu_device *g);

/* The display's refresh. With interval_ns 0 every RESOURCE_FLUSH is sent to the display before it is answered.
 * Otherwise a flush only records its damage and is answered at once (a guest never waits on the display), and
 * gpu_device_present sends each scanout's damage at most once an interval: the latest frame wins, and only the
 * bounding box of what was flushed since the last update is read (back from the renderer, for 3D) and sent. */
void gpu_device_set_display_interval(struct gpu_device *g, uint64_t interval_ns);

/* Send the damage due at now_ns (CLOCK_MONOTONIC): _prepare, then _send. Returns the ns until pending damage is due,
 * or UINT64_MAX when none is pending. Due times lie on one grid of the interval for every vGPU, so updates fall due
 * together. */
uint64_t gpu_device_present(struct gpu_device *g, uint64_t now_ns);

/* gpu_device_present in halves. _prepare (the loop thread: it reads back from the renderer) readies what is due:
 * read back or converted into the vGPU's own send buffer, or lent from a host-memory resource's pixels. While the
 * vGPU's last update is still in flight it readies nothing (the damage waits, the latest frame winning) and returns
 * the refresh interval, the sender's wake-up being the usual cue. _send hands what was readied to the display sender
 * (gpu_device_set_sender), or sends it in the caller when there is none. */
uint64_t gpu_device_present_prepare(struct gpu_device *g, uint64_t now_ns);
void gpu_device_present_send(struct gpu_device *g);

/* On the loop thread: take in a sent update's outcome (counters, the send stage's times, the channel closed with the
 * reason if a send failed). 0 nothing to take (none sent, or still in flight), 1 taken, -1 taken and the channel
 * failed (closed: disp.why says why). */
int gpu_device_present_collect(struct gpu_device *g);

/* The vGPU's display channel, for the loop thread to use: an update readied is handed over, and an update in flight
 * waited for and taken in, first, so nothing else is on the channel (a bounded wait: the channel's time limit a
 * message). */
struct gpu_display *gpu_device_display(struct gpu_device *g);

/* The display-sender threads (display_sender.h) for every vGPU of the process; NULL (the default) sends in the
 * caller. Set before any vGPU is served, and cleared only once none is. */
void gpu_device_set_sender(struct dsend *s);
struct dsend *gpu_device_sender(void);

/* The helper threads that share large copies from guest memory (copy_pool.h), for every vGPU of the process;
 * NULL (the default) copies in the caller. Set before any vGPU is served. */
struct copy_pool;
void gpu_device_set_copy_pool(struct copy_pool *p);
struct copy_pool *gpu_device_copy_pool(void);

/* vdev handler: one request from queue qi. VDEV_RETRY for a request that would wait on the vGPU's render worker
 * behind work it still has (a cursor image, a capset's data): served again once gpu_device_renderer_busy is 0. */
uint32_t gpu_device_handle(void *g, unsigned qi, struct vring_req *req);

/* Whether g's renderer renders later (a worker) and has work of g's under way: fences pending or read-backs. */
int gpu_device_renderer_busy(const struct gpu_device *g);
/* vdev config hook: events_clear. */
int gpu_device_config_write(void *g, uint8_t *config, uint32_t offset, uint32_t size);

/* The renderer completed every fence up to host_fence: answer this vGPU's requests that waited on them. */
void gpu_device_fences_done(struct gpu_device *g, uint32_t host_fence);

const char *gpu_cmd_class_name(enum gpu_cmd_class c);

/* Add the counters of s to sum (the longest fence wait is the longer of the two; last_error is s's if it has one). */
void gpu_stats_add(struct gpu_stats *sum, const struct gpu_stats *s);

#endif
