/* gpu_present.c: display updates: each scanout's damage readied for its channel at most once a refresh period,
 * sent by the display sender or the loop, and collected once sent. */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "device/gpu_int.h"
#include "render/renderer.h"

void gpu_device_set_display_interval(struct gpu_device *g, uint64_t interval_ns)
{
	g->display_interval_ns = interval_ns;
	g->present_next_ns = 0;
}

/* The updates readied (u[0..n)) as messages on the channel, the scanout's size first where due, leaving out those
 * whose read-back never came. */
static void present_build(struct gpu_device *g)
{
	struct gpu_present_job *p = &g->present;
	unsigned n = 0;

	p->job.nmsg = 0;
	for (unsigned k = 0; k < p->n && g->disp.fd >= 0; k++) {
		struct gpu_present_update u = p->u[k];

		if (u.rc)
			continue;
		for (uint32_t y = 0; u.convert && y < u.damage.height; y++) /* in place: nothing to do for BGRX */
			gd_convert_row(u.convert, (uint8_t *)u.pixels + (uint64_t)y * u.damage.width * 4,
				       (uint8_t *)u.pixels + (uint64_t)y * u.damage.width * 4, u.damage.width);
		u.first = p->job.nmsg;
		/* QEMU draws an update into the surface its last SCANOUT made (see flush_to_scanout). */
		if (gdisp_announce_due(&g->disp, u.scanout, u.view.width, u.view.height))
			gdisp_msg_scanout(&p->job.msg[p->job.nmsg++], u.scanout, u.view.width, u.view.height);
		/* Within the resource, so within 16384x16384: always one message. */
		gdisp_msg_update(&p->job.msg[p->job.nmsg], u.scanout, u.damage.x - u.view.x, u.damage.y - u.view.y,
				 u.damage.width, u.damage.height, u.pixels);
		u.last = p->job.nmsg++;
		p->u[n++] = u;
	}
	p->n = n;
	p->reading = 0;
	p->submitted = 0;
	p->job.fd = g->disp.fd;
	p->job.timeout_ms = g->disp.timeout_ms;
}

/* Read-backs under way: 1 while one still is. Those the renderer no longer has under way (it died, or is another
 * one now) never come. */
static int present_reading(struct gpu_device *g)
{
	struct gpu_present_job *p = &g->present;
	int under_way = 0;

	for (unsigned k = 0; k < p->n; k++)
		if (p->u[k].rc == 1) {
			if (!g->rnd || !g->rnd->reading)
				p->u[k].rc = -1;
			else
				under_way = 1;
		}
	return under_way;
}

/* A reset, or the vGPU going: its read-backs under way are forgotten, and their updates dropped. */
void gd_present_drop_reads(struct gpu_device *g)
{
	if (!g->present.reading)
		return;
	if (g->rnd && g->rnd->ops->read_cancel)
		g->rnd->ops->read_cancel(g->rnd);
	g->present.reading = 0;
	g->present.n = 0;
}

uint64_t gpu_device_present_prepare(struct gpu_device *g, uint64_t now)
{
	struct gpu_present_job *p = &g->present;
	uint64_t total = 0;
	int pending = 0, room, later;

	if (p->reading) { /* the worker's answer wakes the loop; a refresh later at the latest */
		if (present_reading(g))
			return g->display_interval_ns ? g->display_interval_ns : UINT64_MAX;
		stage_record(&g->st.stage[STAGE_READBACK], now > p->read_t0 ? now - p->read_t0 : 0);
		present_build(g);
		return UINT64_MAX;
	}
	for (uint32_t i = 0; i < g->num_scanouts; i++)
		pending |= g->scanout[i].dirty;
	if (!pending)
		return UINT64_MAX;
	if (now < g->present_next_ns)
		return g->present_next_ns - now;
	if (p->n && !p->submitted) /* readied before and never handed over: out first */
		gpu_device_present_send(g);
	if (dsend_busy(&p->job)) /* the sender wakes the loop when it is done; a refresh later at the latest */
		return g->display_interval_ns;
	gpu_device_present_collect(g);
	/* A renderer that renders later is read back without waiting (read_begin); such an update lends nothing, so
	 * that nothing lent waits on a renderer. */
	later = 0;
	for (uint32_t i = 0; g->rnd && g->rnd->later && g->rnd->ops->read_begin && i < g->num_scanouts; i++) {
		struct gpu_resource *r = g->scanout[i].dirty ? idmap_get(&g->res, g->scanout[i].resource_id) : NULL;

		later |= r && r->host_id;
	}
	/* Every due scanout's damage: straight from a host-memory resource's pixels where the display takes them as
	 * they are (lent: gpu_present_job), otherwise read back or converted into the vGPU's own buffer. */
	for (uint32_t i = 0; i < g->num_scanouts; i++) {
		struct gpu_scanout *s = &g->scanout[i];
		struct gpu_resource *r = s->dirty ? idmap_get(&g->res, s->resource_id) : NULL;

		if (r && (later || !gd_direct_rows(r, &s->damage)))
			total += (uint64_t)s->damage.width * s->damage.height * 4;
	}
	if (total > p->cap) {
		uint8_t *b = realloc(p->buf, total);

		if (b) {
			p->buf = b;
			p->cap = total;
		} else {
			snprintf(g->st.last_error, sizeof(g->st.last_error),
				 "no memory for a %llu-byte display update: dropped", (unsigned long long)total);
		}
	}
	room = total <= p->cap;
	p->n = 0;
	p->nlent = 0;
	p->job.nmsg = 0;
	p->submitted = 0;
	total = 0;
	for (uint32_t i = 0; i < g->num_scanouts; i++) {
		struct gpu_scanout *s = &g->scanout[i];
		struct gpu_present_update *u = &p->u[p->n];
		struct gpu_resource *r;
		uint64_t bytes = (uint64_t)s->damage.width * s->damage.height * 4;

		if (!s->dirty)
			continue;
		s->dirty = 0;
		/* The scanout still shows the resource the damage was flushed on (set_scanout and unref clear it). */
		r = idmap_get(&g->res, s->resource_id);
		if (!r || g->disp.fd < 0)
			continue;
		*u = (struct gpu_present_update){ .bytes = bytes, .scanout = i, .damage = s->damage, .view = s->r };
		if (!later && gd_direct_rows(r, &s->damage)) {
			u->pixels = r->pixels + (uint64_t)s->damage.y * r->width * 4;
			if (!r->lent) /* one entry a buffer (two scanouts may show one resource) */
				p->lent[p->nlent++] = (struct gpu_lent){ r->pixels, (uint64_t)r->width * r->height * 4,
									 r->guest_id, 0 };
			r->lent = 1;
		} else if (!room) {
			continue;
		} else if (later && r->host_id) {
			struct render_xfer x = { .box = { s->damage.x, s->damage.y, 0, s->damage.width, s->damage.height, 1 },
						 .stride = s->damage.width * 4 };
			int b = g->rnd->ops->read_begin(g->rnd, r->host_id, &x, p->buf + total, bytes, &u->rc);

			if (b > 0) /* not now (the worker is not ready, or has no room yet): at the next refresh */
				s->dirty = 1;
			if (b)
				continue;
			u->convert = r->format;
			p->reading++;
		} else if (gd_flush_read(g, r, &s->damage, p->buf + total) < 0) {
			continue;
		}
		if (!u->pixels) {
			u->pixels = p->buf + total;
			total += bytes;
		}
		p->n++;
	}
	/* On the refresh's grid, the same for every vGPU: updates due together go out together. */
	g->present_next_ns = g->display_interval_ns ? (now / g->display_interval_ns + 1) * g->display_interval_ns : now;
	p->read_t0 = now;
	if (!p->reading)
		present_build(g);
	return UINT64_MAX;
}

void gpu_device_present_send(struct gpu_device *g)
{
	if (!g->present.n || g->present.submitted || g->present.reading)
		return;
	g->present.submitted = 1;
	dsend_submit(gpu_device_sender(), &g->present.job);
}

int gpu_device_present_collect(struct gpu_device *g)
{
	struct gpu_present_job *p = &g->present;

	if (!p->n || !p->submitted || p->reading || dsend_busy(&p->job))
		return 0;
	for (unsigned k = 0; k < p->n; k++) {
		const struct gpu_present_update *u = &p->u[k];
		uint64_t ns = 0;

		if (u->first > p->job.sent) /* never tried: an earlier message failed */
			break;
		/* its messages taken, and the one that failed */
		for (unsigned m = u->first; m <= u->last && m <= p->job.sent && m < p->job.nmsg; m++)
			ns += p->job.msg[m].sent_ns;
		stage_record(&g->st.stage[STAGE_DISPLAY_SEND], ns);
		g->st.present_ns += ns;
		if (u->last < p->job.sent)
			gdisp_count_update(&g->disp, u->scanout, u->bytes);
	}
	p->n = 0;
	for (unsigned k = 0; k < p->nlent; k++) {
		struct gpu_lent *l = &p->lent[k];
		struct gpu_resource *r;

		if (l->orphan) { /* its resource moved on or went: the latest such buffer is the next one's spare */
			free(g->spare);
			g->spare = l->pixels;
			g->spare_len = l->bytes;
		} else if ((r = idmap_get(&g->res, l->res_id)) && r->pixels == l->pixels) {
			r->lent = 0;
		}
	}
	p->nlent = 0;
	/* The channel is the one the updates were readied for: nothing else touches it while they are in flight. */
	if (p->job.failed && g->disp.fd == p->job.fd) {
		gdisp_fail(&g->disp, p->job.why);
		return -1;
	}
	return 1;
}

uint64_t gpu_device_present(struct gpu_device *g, uint64_t now)
{
	uint64_t w = gpu_device_present_prepare(g, now);

	gpu_device_present_send(g);
	return w;
}
