/* gpu_2d.c: the 2D commands (virtio 1.2 §5.7.6.8): display info, resources created, attached, detached,
 * transferred and flushed, scanouts set, EDIDs; and what every command handler shares (the command, its
 * failure, its resource, its rectangle). */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/gpu_int.h"
#include "edid_block.h"
#include "display/copy_pool.h"
#include "mono_clock.h"
#include "render/renderer.h"

uint32_t gd_fail(struct cmd *c, uint32_t type, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->g->st.last_error, sizeof(c->g->st.last_error), "cmd 0x%x: ", c->hdr.type);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(c->g->st.last_error))
		vsnprintf(c->g->st.last_error + n, sizeof(c->g->st.last_error) - (size_t)n, fmt, ap);
	va_end(ap);
	c->g->st.errors++;
	return type;
}

/* Copy the command's fixed part (len bytes); 0, or -1 when the request is shorter. */
int gd_take(struct cmd *c, size_t len)
{
	return gd_iov_read(c->req->in, c->req->nin, 0, c->buf, len) == len ? 0 : -1;
}

struct gpu_resource *gd_find_res(struct cmd *c, uint32_t id)
{
	return idmap_get(&c->g->res, id);
}

/* The vGPU's resource id in *r; 0, or the error response when it has none. */
static uint32_t get_res(struct cmd *c, uint32_t id, struct gpu_resource **r)
{
	*r = gd_find_res(c, id);
	return *r ? 0 : gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource %u", id);
}

/* 0 when rect lies inside resource r, else the error response. */
static uint32_t check_rect(struct cmd *c, const struct virtio_gpu_rect *rect, const struct gpu_resource *r)
{
	if ((uint64_t)rect->x + rect->width <= r->width && (uint64_t)rect->y + rect->height <= r->height)
		return 0;
	return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "rect %ux%u+%u+%u outside %ux%u", rect->width,
		       rect->height, rect->x, rect->y, r->width, r->height);
}

int gpu_outputs_check(uint32_t n, const struct gpu_output_mode *modes, uint32_t nmodes, char *why, size_t whylen)
{
	struct edid_timing t;

	if (n < 1 || n > VIRTIO_GPU_MAX_SCANOUTS) {
		snprintf(why, whylen, "%u outputs: a vGPU has 1 to %d", n, VIRTIO_GPU_MAX_SCANOUTS);
		return -1;
	}
	if (nmodes > n) {
		snprintf(why, whylen, "%u modes for %u output%s", nmodes, n, n == 1 ? "" : "s");
		return -1;
	}
	for (uint32_t i = 0; i < nmodes; i++)
		if (edid_cvt_rb(modes[i].width, modes[i].height, &t) < 0) {
			snprintf(why, whylen, "mode %ux%u of output %u: each side %d to %d (an EDID's detailed timing)",
				 modes[i].width, modes[i].height, i + 1, EDID_MIN_SIDE, EDID_MAX_SIDE);
			return -1;
		}
	return 0;
}

int gpu_device_set_outputs(struct gpu_device *g, uint32_t n, const struct gpu_output_mode *modes, uint32_t nmodes,
			   char *why, size_t whylen)
{
	if (gpu_outputs_check(n, modes, nmodes, why, whylen) < 0)
		return -1;
	g->num_scanouts = n;
	g->modes_given = nmodes > 0;
	for (uint32_t i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
		g->mode[i] = i < nmodes ? modes[i]
			   : i < n    ? (struct gpu_output_mode){ GPU_DEFAULT_WIDTH, GPU_DEFAULT_HEIGHT }
				      : (struct gpu_output_mode){ 0, 0 };
	return 0;
}

/* The modes given to the outputs (gpu_device_set_outputs), as display info: every output connected. */
static void configured_info(const struct gpu_device *g, struct virtio_gpu_resp_display_info *di)
{
	for (uint32_t i = 0; i < g->num_scanouts; i++) {
		di->pmodes[i].enabled = 1;
		di->pmodes[i].r.width = g->mode[i].width;
		di->pmodes[i].r.height = g->mode[i].height;
	}
}

uint32_t gd_cmd_display_info(struct cmd *c)
{
	struct gpu_device *g = c->g;
	struct virtio_gpu_resp_display_info *di = &c->resp.di;

	memset(di, 0, sizeof(*di));
	if (g->modes_given || gdisp_get_display_info(gpu_device_display(g), di) < 0) {
		memset(di, 0, sizeof(*di));
		configured_info(g, di);
	}
	for (uint32_t i = g->num_scanouts; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
		memset(&di->pmodes[i], 0, sizeof(di->pmodes[i]));
	c->resp_len = sizeof(*di);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

void gpu_device_set_size(struct gpu_device *g, uint64_t bytes)
{
	g->size_bytes = bytes;
}

uint32_t gd_cmd_create_2d(struct cmd *c)
{
	struct virtio_gpu_resource_create_2d m;
	struct gpu_resource *r = NULL;
	uint64_t bytes;
	uint32_t e;
	int in_host;

	memcpy(&m, c->buf, sizeof(m));
	if (!gd_format_known(m.format))
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "format %u is not a 2D format", m.format);
	if (!m.width || !m.height || m.width > GPU_MAX_DIM || m.height > GPU_MAX_DIM)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "size %ux%u", m.width, m.height);
	bytes = (uint64_t)m.width * m.height * 4;
	/* In host memory while it fits the vGPU's 2D memory, with virgl too (resource_to_renderer); past it, with
	 * virgl, in the renderer at once. */
	in_host = c->g->mem_2d + bytes <= GPU_MAX_2D_BYTES;
	if (!c->g->virgl && !in_host)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
			       "%ux%u would pass the vGPU's %llu MiB of 2D memory", m.width, m.height,
			       GPU_MAX_2D_BYTES >> 20);
	if ((e = gd_check_size(c, m.resource_id, bytes)) || (e = gd_new_resource(c, m.resource_id, &r)))
		return e;
	r->format = m.format;
	r->width = m.width;
	r->height = m.height;
	if (!in_host) {
		if (gd_renderer_2d_create(c->g, r, &r->host_id) < 0) {
			free(r);
			return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "the renderer refused a %ux%u resource", m.width,
				       m.height);
		}
	} else {
		r->pixels = calloc(1, bytes);
		if (!r->pixels) {
			free(r);
			return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for %ux%u", m.width, m.height);
		}
		c->g->mem_2d += bytes;
	}
	r->charged = bytes;
	c->g->charged += bytes;
	if (idmap_put(&c->g->res, r->guest_id, r) < 0) {
		gd_resource_destroy(c->g, r);
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for the resource table");
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static void scanout_disable(struct gpu_device *g, uint32_t i)
{
	g->scanout[i].resource_id = 0;
	g->scanout[i].dirty = 0;
	gdisp_scanout(gpu_device_display(g), i, 0, 0);
}

uint32_t gd_cmd_unref(struct cmd *c)
{
	struct virtio_gpu_resource_unref m;
	struct gpu_resource *r;

	memcpy(&m, c->buf, sizeof(m));
	r = idmap_del(&c->g->res, m.resource_id);
	if (!r)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource %u", m.resource_id);
	for (uint32_t i = 0; i < c->g->num_scanouts; i++)
		if (c->g->scanout[i].resource_id == m.resource_id)
			scanout_disable(c->g, i);
	gd_resource_destroy(c->g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gd_cmd_set_scanout(struct cmd *c)
{
	struct virtio_gpu_set_scanout m;
	struct gpu_resource *r;
	struct gpu_scanout *s;
	uint32_t e;

	memcpy(&m, c->buf, sizeof(m));
	if (m.scanout_id >= c->g->num_scanouts)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout %u of %u", m.scanout_id,
			       c->g->num_scanouts);
	if (m.resource_id == 0) {
		scanout_disable(c->g, m.scanout_id);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if (!m.r.width || !m.r.height)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "empty scanout rect %ux%u", m.r.width,
			       m.r.height);
	if ((e = check_rect(c, &m.r, r)))
		return e;
	s = &c->g->scanout[m.scanout_id];
	if (s->resource_id != m.resource_id || memcmp(&s->r, &m.r, sizeof(m.r))) {
		s->dirty = 0; /* damage flushed on what it showed before goes with it */
		s->full = 1;  /* and what it shows now is all new */
	}
	/* Its size reaches the front-end with its next update (flush_to_scanout): QEMU shows a new surface only then,
	 * and keeps just the last one made. */
	s->resource_id = m.resource_id;
	s->r = m.r;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint8_t *flush_buffer(struct gpu_device *g, uint64_t bytes)
{
	if (bytes > g->flush_cap) {
		uint8_t *b = realloc(g->flush_buf, bytes);

		if (!b)
			return NULL;
		g->flush_buf = b;
		g->flush_cap = bytes;
	}
	return g->flush_buf;
}

/* Can rectangle a of r go to the display straight from the resource's own memory (whole rows of a host-memory
 * resource already in the display's format)? Otherwise it is read back or converted into the flush buffer. */
int gd_direct_rows(const struct gpu_resource *r, const struct virtio_gpu_rect *a)
{
	return !r->host_id && gd_is_bgrx(r->format) && a->x == 0 && a->width == r->width;
}

/* Rectangle `a` (in resource coordinates) of r into dst as the display takes it (x8r8g8b8, a->width * 4 bytes a
 * row): read back from the renderer, or converted (copied, for a format the display takes as it is). 0 or -1 (the
 * renderer refused the read-back). */
int gd_flush_read(struct gpu_device *g, struct gpu_resource *r, const struct virtio_gpu_rect *a, uint8_t *dst)
{
	uint64_t bytes = (uint64_t)a->width * a->height * 4, t0 = mono_ns(), t1;

	if (r->host_id) {
		struct render_xfer x = { .box = { a->x, a->y, 0, a->width, a->height, 1 }, .stride = a->width * 4 };
		struct iovec iov = { dst, bytes };
		int e;

		renderer_quiesce(g->rnd);
		e = g->rnd->ops->read(g->rnd, r->host_id, &x, &iov, 1);
		t1 = mono_ns();
		stage_record(&g->st.stage[STAGE_READBACK], t1 - t0);
		g->st.present_ns += t1 - t0;
		if (e)
			return -1;
		for (uint32_t y = 0; y < a->height; y++) /* in place: nothing to do for BGRX */
			gd_convert_row(r->format, dst + (uint64_t)y * a->width * 4, dst + (uint64_t)y * a->width * 4,
				       a->width);
		return 0;
	}
	for (uint32_t y = 0; y < a->height; y++)
		gd_convert_row(r->format, r->pixels + ((uint64_t)(a->y + y) * r->width + a->x) * 4,
			       dst + (uint64_t)y * a->width * 4, a->width);
	g->st.present_ns += mono_ns() - t0;
	return 0;
}

/* Send rectangle `a` (in resource coordinates) of r to scanout i, now, from the resource's own memory where it can
 * (every flush sent before it is answered: --display-fps 0). */
static int flush_to_scanout(struct gpu_device *g, struct gpu_resource *r, uint32_t i, const struct virtio_gpu_rect *a)
{
	struct gpu_display *d = gpu_device_display(g);
	const uint8_t *buf;
	uint64_t t0, t1;
	int e;

	if (gd_direct_rows(r, a)) {
		buf = r->pixels + (uint64_t)a->y * r->width * 4; /* no copy */
	} else {
		if (!flush_buffer(g, (uint64_t)a->width * a->height * 4) || gd_flush_read(g, r, a, g->flush_buf) < 0)
			return -1;
		buf = g->flush_buf;
	}
	t0 = mono_ns();
	/* QEMU draws an update into the surface its last SCANOUT made, and has none on a new channel (or after a reset,
	 * which comes with one): the scanout's size goes first whenever this channel has not been told it (gdisp_scanout
	 * sends nothing for a size already announced). */
	if (gdisp_scanout(d, i, g->scanout[i].r.width, g->scanout[i].r.height) < 0)
		return -1;
	e = gdisp_update(d, i, a->x - g->scanout[i].r.x, a->y - g->scanout[i].r.y, a->width, a->height, buf);
	t1 = mono_ns();
	stage_record(&g->st.stage[STAGE_DISPLAY_SEND], t1 - t0);
	g->st.present_ns += t1 - t0;
	return e;
}

/* The smallest rectangle holding a and b. */
static struct virtio_gpu_rect rect_union(const struct virtio_gpu_rect *a, const struct virtio_gpu_rect *b)
{
	uint32_t x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
	uint32_t x1 = a->x + a->width > b->x + b->width ? a->x + a->width : b->x + b->width;
	uint32_t y1 = a->y + a->height > b->y + b->height ? a->y + a->height : b->y + b->height;

	return (struct virtio_gpu_rect){ .x = x0, .y = y0, .width = x1 - x0, .height = y1 - y0 };
}

uint32_t gd_cmd_flush(struct cmd *c)
{
	struct virtio_gpu_resource_flush m;
	struct gpu_device *g = c->g;
	struct gpu_resource *r;
	uint32_t e;

	memcpy(&m, c->buf, sizeof(m));
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if ((e = check_rect(c, &m.r, r)))
		return e;
	g->st.flushes++;
	for (uint32_t i = 0; i < g->num_scanouts; i++) {
		struct gpu_scanout *s = &g->scanout[i];
		struct virtio_gpu_rect a;
		uint32_t x1, y1;

		if (s->resource_id != m.resource_id || g->disp.fd < 0)
			continue;
		if (s->full) {
			/* What it shows changed: all of it goes (within the resource: checked at set_scanout). */
			a = s->r;
			s->full = 0;
			goto damaged;
		}
		/* The part of the flushed rectangle this scanout shows (all within the resource: check_rect). */
		a.x = m.r.x > s->r.x ? m.r.x : s->r.x;
		a.y = m.r.y > s->r.y ? m.r.y : s->r.y;
		x1 = m.r.x + m.r.width < s->r.x + s->r.width ? m.r.x + m.r.width : s->r.x + s->r.width;
		y1 = m.r.y + m.r.height < s->r.y + s->r.height ? m.r.y + m.r.height : s->r.y + s->r.height;
		if (x1 <= a.x || y1 <= a.y)
			continue;
		a.width = x1 - a.x;
		a.height = y1 - a.y;
damaged:
		if (!g->display_interval_ns) {
			flush_to_scanout(g, r, i, &a);
			continue;
		}
		if (s->dirty)
			g->st.display_coalesced++;
		s->damage = s->dirty ? rect_union(&s->damage, &a) : a;
		s->dirty = 1;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gd_cmd_transfer_2d(struct cmd *c)
{
	struct virtio_gpu_transfer_to_host_2d m;
	struct gpu_resource *r;
	uint32_t e;
	uint64_t stride, last;

	memcpy(&m, c->buf, sizeof(m));
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if (!r->backing)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u has no backing", m.resource_id);
	if ((e = check_rect(c, &m.r, r)))
		return e;
	if (!m.r.width || !m.r.height)
		return VIRTIO_GPU_RESP_OK_NODATA;
	stride = (uint64_t)r->width * 4;
	/* The rectangle's last byte in the backing; every term fits in 64 bits (sizes are capped). */
	if (m.offset > r->backing_len)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "offset %llu past the %llu-byte backing",
			       (unsigned long long)m.offset, (unsigned long long)r->backing_len);
	last = (uint64_t)(m.r.height - 1) * stride + (uint64_t)m.r.width * 4;
	if (last > r->backing_len - m.offset)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
			       "rect %ux%u at offset %llu runs past the %llu-byte backing", m.r.width, m.r.height,
			       (unsigned long long)m.offset, (unsigned long long)r->backing_len);
	if (r->host_id) {
		struct render_xfer x = { .box = { m.r.x, m.r.y, 0, m.r.width, m.r.height, 1 }, .offset = m.offset };
		uint64_t t0 = mono_ns();
		int e = c->g->rnd->ops->write(c->g->rnd, r->host_id, &x, NULL, 0);

		c->park = c->g->rnd->later;
		c->g->st.render_ns += mono_ns() - t0;
		if (e)
			return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
				       "the renderer refused the transfer (%d)", e);
	} else if (gd_pixels_own(c->g, r, m.r.y == 0 && m.r.height == r->height && m.r.width == r->width) < 0) {
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
			       "no memory for the %ux%u resource %u while it is sent", r->width, r->height,
			       m.resource_id);
	} else if (m.r.x == 0 && m.r.width == r->width) {
		struct copy_run cr = { r, m.offset, r->pixels + (uint64_t)m.r.y * stride };

		copy_pool_run(gpu_device_copy_pool(), gd_copy_run_part, &cr, last, COPY_PART);
	} else {
		struct copy_rows cr = { r, m.offset, stride, (uint64_t)m.r.width * 4,
					r->pixels + (uint64_t)m.r.y * stride + (uint64_t)m.r.x * 4 };

		copy_pool_run(gpu_device_copy_pool(), gd_copy_rows_part, &cr, m.r.height, COPY_PART / cr.row_bytes + 1);
	}
	c->g->st.bytes_to_host += (uint64_t)m.r.width * m.r.height * 4;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gd_cmd_attach_backing(struct cmd *c)
{
	struct virtio_gpu_resource_attach_backing m;
	struct gpu_resource *r;
	uint32_t e;
	struct iovec *iov;
	uint64_t *at, *gpa, total = 0;
	uint32_t n = 0; /* entries kept: one that continues the previous in guest and host memory extends it */

	memcpy(&m, c->buf, sizeof(m));
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if (r->backing)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u has a backing already", m.resource_id);
	if (!m.nr_entries || m.nr_entries > GPU_MAX_BACKING_ENTRIES)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "%u backing entries", m.nr_entries);
	if (c->req->in_len < sizeof(m) + (uint64_t)m.nr_entries * sizeof(struct virtio_gpu_mem_entry))
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "%u entries do not fit the %llu-byte request",
			       m.nr_entries, (unsigned long long)c->req->in_len);
	iov = calloc(m.nr_entries, sizeof(*iov));
	at = calloc(m.nr_entries, sizeof(*at));
	gpa = calloc(m.nr_entries, sizeof(*gpa));
	if (!iov || !at || !gpa) {
		free(iov);
		free(at);
		free(gpa);
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for %u entries", m.nr_entries);
	}
	for (uint32_t i = 0; i < m.nr_entries; i++) {
		struct virtio_gpu_mem_entry e;
		void *p;

		gd_iov_read(c->req->in, c->req->nin, sizeof(m) + (uint64_t)i * sizeof(e), &e, sizeof(e));
		p = gd_backing_at_addr(c->g, e.addr, e.length);
		if (!p) {
			free(iov);
			free(at);
			free(gpa);
			return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
				       "entry %u (%u bytes at 0x%llx) is not in guest RAM", i, e.length,
				       (unsigned long long)e.addr);
		}
		/* Guest pages that lie next to each other in guest and in host memory are one run: fewer, longer copies
		 * here and in the renderer (which copies a many-piece backing through a bounce buffer first). A run
		 * is one guest range, so it can be looked up again after a remap (gpu_device_mem_remapped). */
		if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == (uint8_t *)p &&
		    gpa[n - 1] + iov[n - 1].iov_len == e.addr) {
			iov[n - 1].iov_len += e.length;
		} else {
			iov[n].iov_base = p;
			iov[n].iov_len = e.length;
			gpa[n] = e.addr;
			at[n++] = total;
		}
		total += e.length;
	}
	if (r->host_id && c->g->rnd->ops->attach(c->g->rnd, r->host_id, iov, (int)n) != 0) {
		free(iov);
		free(at);
		free(gpa);
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "the renderer refused the backing of resource %u",
			       m.resource_id);
	}
	r->backing = iov;
	r->backing_at = at;
	r->backing_gpa = gpa;
	r->nbacking = (int)n;
	r->backing_len = total;
	c->g->backing_bytes += total;
	c->g->backing_table_bytes += (uint64_t)n * BACKING_ENTRY_BYTES;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gd_cmd_detach_backing(struct cmd *c)
{
	struct virtio_gpu_resource_detach_backing m;
	struct gpu_resource *r;
	uint32_t e;

	memcpy(&m, c->buf, sizeof(m));
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if (!r->backing)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u has no backing", m.resource_id);
	gd_backing_drop(c->g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gd_cmd_edid(struct cmd *c)
{
	struct virtio_gpu_cmd_get_edid m;

	memcpy(&m, c->buf, sizeof(m));
	if (m.scanout >= c->g->num_scanouts)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout %u of %u", m.scanout,
			       c->g->num_scanouts);
	if (c->g->modes_given || gdisp_get_edid(gpu_device_display(c->g), m.scanout, &c->resp.edid) < 0) {
		/* Its own: the output's mode alone, preferred, on a screen of 96 pixels an inch. */
		uint32_t w = c->g->mode[m.scanout].width, h = c->g->mode[m.scanout].height;

		memset(&c->resp.edid, 0, sizeof(c->resp.edid));
		if (edid_build_mode(c->resp.edid.edid, w, h, "vgpu-mediator") < 0)
			return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "no EDID for scanout %u's mode %ux%u", m.scanout,
				       w, h);
		c->resp.edid.size = EDID_BLOCK;
	}
	c->resp_len = sizeof(c->resp.edid);
	return VIRTIO_GPU_RESP_OK_EDID;
}
