/* gpu_display.h: one vGPU's display channel to its front-end (the socket QEMU
 * hands over with VHOST_USER_GPU_SET_SOCKET): scanout configuration, frame
 * updates, cursor, and the display info / EDID queries. A front-end that
 * stops reading costs at most a bounded wait once; the channel is then closed
 * and the vGPU runs on without a display. */
#ifndef VGPU_GPU_DISPLAY_H
#define VGPU_GPU_DISPLAY_H

#include <stdint.h>

#include "display/display_sender.h"
#include "device/virtio_gpu.h"

struct gpu_display {
	int fd; /* -1 when there is no (or no longer a) channel */
	uint64_t protocol; /* VHOST_USER_GPU_PROTOCOL_F_* both sides have */
	int negotiating;   /* our GET_PROTOCOL_FEATURES awaits its answer */
	unsigned timeout_ms; /* the longest any one send or reply may take */
	uint64_t updates, update_bytes, failed;
	uint64_t out_updates[VIRTIO_GPU_MAX_SCANOUTS], out_bytes[VIRTIO_GPU_MAX_SCANOUTS]; /* the same, by scanout */
	/* Each scanout's size as last announced on this channel (0: disabled, or not yet). */
	uint32_t shown_w[VIRTIO_GPU_MAX_SCANOUTS], shown_h[VIRTIO_GPU_MAX_SCANOUTS];
	char why[192]; /* why the channel was closed */
};

void gdisp_init(struct gpu_display *g);

/* Take over fd (closing any previous channel) and ask for the front-end's protocol features; the answer
 * is taken by gdisp_readable. 0, or -1 (channel closed). */
int gdisp_attach(struct gpu_display *g, int fd);

/* The channel is readable: take the front-end's message (a reply). 0, or -1 (channel closed). */
int gdisp_readable(struct gpu_display *g);

void gdisp_close(struct gpu_display *g, const char *why);

/* Ask the front-end for its display layout. 0, or -1 (no channel, or no answer in time). */
int gdisp_get_display_info(struct gpu_display *g, struct virtio_gpu_resp_display_info *out);

/* Ask the front-end for a scanout's EDID (needs the EDID protocol feature). 0 or -1. */
int gdisp_get_edid(struct gpu_display *g, uint32_t scanout, struct virtio_gpu_resp_edid *out);

/* Configure a scanout (width 0 disables it). A size the channel already announced is not sent again: QEMU makes
 * a new display surface for every SCANOUT and keeps only the last one made before the next UPDATE, so repeated
 * announcements (a guest flipping between two buffers) would only leak surfaces there. 0 or -1. */
int gdisp_scanout(struct gpu_display *g, uint32_t scanout, uint32_t width, uint32_t height);

/* Send a w x h rectangle at (x, y) of scanout, pixels packed as x8r8g8b8 (w * 4 bytes a row). 0 or -1. */
int gdisp_update(struct gpu_display *g, uint32_t scanout, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		 const void *pixels);

/* Whether scanout's size (scanout < VIRTIO_GPU_MAX_SCANOUTS; width 0: disabled) must be announced before anything
 * else is sent for it on this channel; if so, it is noted as announced, and the caller sends the SCANOUT next
 * (gdisp_msg_scanout). */
int gdisp_announce_due(struct gpu_display *g, uint32_t scanout, uint32_t width, uint32_t height);

/* Messages for a display-sender job (display_sender.h), built on the loop thread and sent by a sender thread while
 * the channel's owner sends, reads and closes nothing on it. The owner hands the job the channel's fd and time
 * limit, and once the job is done counts the updates that went out (gdisp_count_update) and, if one failed,
 * closes the channel with the reason (gdisp_fail). gdisp_msg_update: 0, or -1 (too large for one message). */
void gdisp_msg_scanout(struct dsend_msg *m, uint32_t scanout, uint32_t width, uint32_t height);
int gdisp_msg_update(struct dsend_msg *m, uint32_t scanout, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		     const void *pixels);
void gdisp_count_update(struct gpu_display *g, uint32_t scanout, uint64_t bytes);
void gdisp_fail(struct gpu_display *g, const char *why);

/* Cursor image (64x64 a8r8g8b8) and position; or just a move (shape NULL), or hide. 0 or -1. */
int gdisp_cursor(struct gpu_display *g, uint32_t scanout, uint32_t x, uint32_t y, uint32_t hot_x, uint32_t hot_y,
		 const uint32_t *shape, int visible);

#endif
