/* gpu_int.h: what the files of one vGPU's device model share (gpu_device.c and its gpu_*.c; nothing else
 * includes it): a resource, a command being served, and each file's helpers. */
#ifndef VGPU_GPU_INT_H
#define VGPU_GPU_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "device/gpu_device.h"

struct gpu_resource {
	uint32_t guest_id, host_id; /* host_id: the renderer's, 0 for a host-memory 2D resource */
	uint64_t charged;           /* bytes it holds of the vGPU's size */
	uint32_t format, width, height;
	uint8_t *pixels; /* host-memory 2D resources: width * 4 bytes a row */
	int lent;        /* an update in flight sends from pixels (gpu_present_job.lent) */
	struct iovec *backing; /* guest pages, as host pointers into the vGPU's own guest memory */
	uint64_t *backing_at;  /* offset of each entry in the backing */
	uint64_t *backing_gpa; /* each entry's guest address: looked up again when guest memory is remapped */
	int nbacking;
	uint64_t backing_len;
	/* A 2D resource in host memory: the guest contexts that attached it, attached in the renderer too when it
	 * moves there (resource_to_renderer). At most one entry a live context. */
	uint32_t *ctxs;
	unsigned nctxs, cap_ctxs;
};

#define COPY_PART (1u << 20) /* the least a thread is given: smaller copies are not worth a hand-off */

/* Whole rows: one run of bytes of the backing into one run of the resource. */
struct copy_run {
	const struct gpu_resource *r;
	uint64_t off;
	uint8_t *dst;
};

/* Part of each row: rows [b, e) of a rectangle. */
struct copy_rows {
	const struct gpu_resource *r;
	uint64_t off, stride, row_bytes;
	uint8_t *dst; /* the rectangle's first pixel in the resource */
};

/* One run of bytes from host memory to host memory (a display update's rows into the vGPU's send buffer). */
struct copy_flat {
	const uint8_t *src;
	uint8_t *dst;
};

/* Host memory one backing entry's tables take. */
#define BACKING_ENTRY_BYTES (sizeof(struct iovec) + 2 * sizeof(uint64_t))


struct cmd {
	struct gpu_device *g;
	struct vring_req *req;
	enum gpu_cmd_class cls;
	struct virtio_gpu_ctrl_hdr hdr;
	uint8_t buf[160]; /* the command's fixed part */
	union {           /* the response: its header, and the payload of the commands that have one */
		struct virtio_gpu_ctrl_hdr hdr;
		struct virtio_gpu_resp_display_info di;
		struct virtio_gpu_resp_capset_info ci;
		struct virtio_gpu_resp_edid edid;
	} resp;
	size_t resp_len;  /* bytes of resp to write: the header unless a handler says more */
	uint32_t written; /* a handler that wrote its reply itself (GET_CAPSET) says how much here */
	int park;         /* a transfer the renderer carries out later: answered once a fence after it retires */
};

/* Count a failed command and keep why in the vGPU's last error. Returns type, the error response. */
uint32_t gd_fail(struct cmd *c, uint32_t type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));


/* gpu_copy.c */

size_t gd_iov_read(const struct iovec *iov, int n, uint64_t off, void *buf, size_t len);
size_t gd_iov_write(const struct iovec *iov, int n, const void *buf, size_t len);
void gd_copy_run_part(void *ctx, uint64_t b, uint64_t e);
void gd_copy_rows_part(void *ctx, uint64_t b, uint64_t e);
void gd_copy_flat_part(void *ctx, uint64_t b, uint64_t e);

/* gpu_resource.c */

int gd_format_known(uint32_t f);
/* Formats whose bytes already are the display's x8r8g8b8 (B, G, R, then alpha or padding). */
int gd_is_bgrx(uint32_t f);
/* A row of w pixels of format f (bytes low address first) as x8r8g8b8: bytes B, G, R, then the source's
 * alpha or padding byte, which x8r8g8b8 ignores. src may equal dst. */
void gd_convert_row(uint32_t f, const uint8_t *src, uint8_t *dst, uint32_t w);
/* Forget a backing the renderer no longer holds. */
void gd_backing_free(struct gpu_device *g, struct gpu_resource *r);
/* The renderer lets go of r's backing (for a buffer it keeps in host memory it copies the backing out now). */
void gd_backing_detach(struct gpu_device *g, struct gpu_resource *r);
void gd_backing_drop(struct gpu_device *g, struct gpu_resource *r);
/* Before r's pixels are written: if an update in flight sends from them, r takes another buffer (the spare, or a
 * new one) holding the same pixels, unless the write covers them all. 0, or -1 (no memory). */
int gd_pixels_own(struct gpu_device *g, struct gpu_resource *r, int whole);
void gd_resource_destroy(struct gpu_device *g, struct gpu_resource *r);
/* Host pointer to [addr, addr + len) of the client's memory: guest RAM, or a host client's own (mem_at). */
void *gd_backing_at_addr(const struct gpu_device *g, uint64_t addr, uint64_t len);
/* 0 when bytes more fit the vGPU's size, else the error response. */
uint32_t gd_check_size(struct cmd *c, uint32_t id, uint64_t bytes);
uint32_t gd_new_resource(struct cmd *c, uint32_t id, struct gpu_resource **out);
/* The renderer's resource for 2D resource r: a 2D texture the guest's contexts may also render to. 0, or -1. */
int gd_renderer_2d_create(struct gpu_device *g, const struct gpu_resource *r, uint32_t *handle);
/* A 2D resource held in host memory moves into the renderer the first time a 3D command uses it (a command
 * stream naming it, a 3D transfer): its pixels are uploaded, its backing handed over, and the contexts that
 * attached it meanwhile attach it there. A guest's kernel attaches every buffer a GL-capable file opens, dumb
 * buffers too, so an attachment alone does not move it. Until then a transfer to it is a copy, and a display
 * update reads it where it lies, with no upload and no read-back (virglrenderer keeps a B8G8R8X8 texture as RGBA
 * and swizzles every pixel both ways). 0, or -1 (it stays where it was, and the command using it fails). */
int gd_resource_to_renderer(struct gpu_device *g, struct gpu_resource *r);
/* A command stream's resource: the renderer's ID, moving a 2D resource held in host memory into the renderer
 * first (a stream that names it means to use it in 3D). 0: none. */
uint32_t gd_lookup_host_res(void *opaque, uint32_t guest_id);

/* gpu_2d.c */
/* Copy the command's fixed part (len bytes); 0, or -1 when the request is shorter. */
int gd_take(struct cmd *c, size_t len);
struct gpu_resource *gd_find_res(struct cmd *c, uint32_t id);
uint32_t gd_cmd_display_info(struct cmd *c);
uint32_t gd_cmd_create_2d(struct cmd *c);
uint32_t gd_cmd_unref(struct cmd *c);
uint32_t gd_cmd_set_scanout(struct cmd *c);
/* Can rectangle a of r go to the display straight from the resource's own memory (whole rows of a host-memory
 * resource already in the display's format)? Otherwise it is read back or converted into the flush buffer. */
int gd_direct_rows(const struct gpu_resource *r, const struct virtio_gpu_rect *a);
/* Rectangle `a` (in resource coordinates) of r into dst as the display takes it (x8r8g8b8, a->width * 4 bytes a
 * row): read back from the renderer, or converted (copied, for a format the display takes as it is). 0 or -1 (the
 * renderer refused the read-back). */
int gd_flush_read(struct gpu_device *g, struct gpu_resource *r, const struct virtio_gpu_rect *a, uint8_t *dst);
uint32_t gd_cmd_flush(struct cmd *c);
uint32_t gd_cmd_transfer_2d(struct cmd *c);
uint32_t gd_cmd_attach_backing(struct cmd *c);
uint32_t gd_cmd_detach_backing(struct cmd *c);
uint32_t gd_cmd_edid(struct cmd *c);

/* gpu_present.c */
/* A reset, or the vGPU going: its read-backs under way are forgotten, and their updates dropped. */
void gd_present_drop_reads(struct gpu_device *g);

/* gpu_3d.c */
uint32_t gd_cmd_capset_info(struct cmd *c);
/* GET_CAPSET answers with a variable-size payload: it writes its reply itself (c->written). */
uint32_t gd_cmd_capset(struct cmd *c);
uint32_t gd_cmd_ctx_create(struct cmd *c);
uint32_t gd_cmd_ctx_destroy(struct cmd *c);
uint32_t gd_cmd_ctx_resource(struct cmd *c);
uint32_t gd_cmd_create_3d(struct cmd *c);
uint32_t gd_cmd_transfer_3d(struct cmd *c);
uint32_t gd_cmd_submit(struct cmd *c);

uint32_t gd_cmd_cursor(struct cmd *c);

#endif
