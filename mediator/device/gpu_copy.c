/* gpu_copy.c: a vGPU's guest buffers: read and written through their iovecs, copied out of guest memory (on the
 * copy pool's threads when there is one), and the display sender the device hands its updates to. */
#define _GNU_SOURCE

#include <stdint.h>
#include <string.h>

#include "device/gpu_int.h"

/* ---- guest buffers ---- */

size_t gd_iov_read(const struct iovec *iov, int n, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;

		if (take > len - done)
			take = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, take);
		done += take;
		off = 0;
	}
	return done;
}

size_t gd_iov_write(const struct iovec *iov, int n, const void *buf, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		size_t take = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(iov[i].iov_base, (const uint8_t *)buf + done, take);
		done += take;
	}
	return done;
}

/* Copy [off, off + len) of a resource's backing (the caller checked it lies inside). */
static void backing_read(const struct gpu_resource *r, uint64_t off, uint8_t *dst, uint64_t len)
{
	int lo = 0, hi = r->nbacking - 1;

	while (lo < hi) { /* the last entry starting at or before off */
		int mid = (lo + hi + 1) / 2;

		if (r->backing_at[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (int i = lo; i < r->nbacking && len; i++) {
		uint64_t in = off - r->backing_at[i];
		uint64_t take = r->backing[i].iov_len - in;

		if (take > len)
			take = len;
		memcpy(dst, (uint8_t *)r->backing[i].iov_base + in, take);
		dst += take;
		len -= take;
		off += take;
	}
}

/* ---- copies from guest memory, shared with the pool's threads ---- */

static struct copy_pool *pool;

void gpu_device_set_copy_pool(struct copy_pool *p)
{
	pool = p;
}

struct copy_pool *gpu_device_copy_pool(void)
{
	return pool;
}

void gd_copy_run_part(void *ctx, uint64_t b, uint64_t e)
{
	const struct copy_run *c = ctx;

	backing_read(c->r, c->off + b, c->dst + b, e - b);
}

void gd_copy_rows_part(void *ctx, uint64_t b, uint64_t e)
{
	const struct copy_rows *c = ctx;

	for (uint64_t y = b; y < e; y++)
		backing_read(c->r, c->off + y * c->stride, c->dst + y * c->stride, c->row_bytes);
}

void gd_copy_flat_part(void *ctx, uint64_t b, uint64_t e)
{
	const struct copy_flat *c = ctx;

	memcpy(c->dst + b, c->src + b, e - b);
}

/* ---- the display sender (display_sender.h) ---- */

static struct dsend *sender;

void gpu_device_set_sender(struct dsend *s)
{
	sender = s;
}

struct dsend *gpu_device_sender(void)
{
	return sender;
}

struct gpu_display *gpu_device_display(struct gpu_device *g)
{
	gpu_device_present_send(g); /* one readied and not yet handed over goes first: nothing overtakes it */
	dsend_wait(sender, &g->present.job);
	gpu_device_present_collect(g);
	return &g->disp;
}
