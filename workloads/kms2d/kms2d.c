/*
 * kms2d: a 2D engine benchmark on any KMS device, with libdrm only.
 *
 * On every connected connector that has a CRTC of its own (up to 16), at its
 * preferred mode, with two XRGB8888 dumb buffers per output, it measures, each
 * for a time budget and on every output at once (a thread an output draws; the
 * flips of all outputs are waited for in one loop, one flip in flight each):
 *   fill   full-screen solid fills, each pushed with DIRTYFB   (fills/s, MB/s)
 *   copy   full-screen blits from the other buffer + DIRTYFB   (copies/s, MB/s)
 *   dirty  64x64 partial updates, each one DIRTYFB rectangle  (updates/s)
 *   flip   page flips between the buffers, waiting for each
 *          flip's vblank event                                 (flips/s, latency p50/p99)
 * Output is one "key: value" per line, stable for parsers (kms2d-format: 1):
 * each rate summed over the outputs, the latencies over all their flips, and
 * with more than one output each output's own as "outputN.<key>".
 * Exit status: 0 done, 77 skipped (no KMS device: "skip: reason"), 1 error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xf86drm.h>
#include <xf86drmMode.h>
#include <drm_fourcc.h>

#include "kms2d_frames.h"

#define EXIT_SKIP 77
#define RECT 64
#define MAX_FLIPS 100000
#define MAX_OUTPUTS 16 /* virtio-gpu's most scanouts */

struct fb {
	uint32_t handle, pitch, id;
	uint64_t size;
	uint8_t *map;
};

/* One connected output driven: its connector, CRTC, mode and buffers, and what its current phase counted. */
struct output {
	int idx; /* 1-based, in connector order */
	int fd;
	uint32_t conn_id, crtc_id;
	drmModeModeInfo mode;
	struct fb fb[2];
	drmModeCrtc *saved;
	double budget;
	long n;	  /* operations done in the phase */
	double t; /* seconds it took */
	int rc;	  /* 0, or -1 (said) */
	/* the flip phase */
	double sent, *lat;
	int nlat, pending, cur, finished;
};

struct kms {
	int fd;
	int n;
	struct output out[MAX_OUTPUTS];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "kms2d: %s: %s\n", what, strerror(errno));
	return -1;
}

static int fail_output(const struct output *o, const char *what)
{
	fprintf(stderr, "kms2d: output %d (connector %u): %s: %s\n", o->idx, o->conn_id, what, strerror(errno));
	return -1;
}

static int open_device(const char *path, char *used, size_t len)
{
	glob_t g;
	int fd = -1;

	if (path) {
		snprintf(used, len, "%s", path);
		return open(path, O_RDWR | O_CLOEXEC);
	}
	if (glob("/dev/dri/card*", 0, NULL, &g) != 0)
		return -1;
	for (size_t i = 0; i < g.gl_pathc && fd < 0; i++) {
		uint64_t dumb = 0;

		fd = open(g.gl_pathv[i], O_RDWR | O_CLOEXEC);
		if (fd >= 0 && (drmGetCap(fd, DRM_CAP_DUMB_BUFFER, &dumb) < 0 || !dumb)) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			snprintf(used, len, "%s", g.gl_pathv[i]);
	}
	globfree(&g);
	return fd;
}

/* What the driver shows when no output can be driven, for the log. */
static void say_connectors(int fd, const drmModeRes *res)
{
	for (int i = 0; i < res->count_connectors; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);

		if (c)
			fprintf(stderr, "kms2d: connector %u (type %u): %s, %d modes, %d encoders\n", c->connector_id,
				c->connector_type,
				c->connection == DRM_MODE_CONNECTED	 ? "connected"
				: c->connection == DRM_MODE_DISCONNECTED ? "disconnected"
									 : "state unknown",
				c->count_modes, c->count_encoders);
		drmModeFreeConnector(c);
	}
	fprintf(stderr, "kms2d: %d connectors, %d CRTCs\n", res->count_connectors, res->count_crtcs);
}

/* A CRTC no other output took that one of c's encoders can drive: its index, or -1. */
static int free_crtc(int fd, const drmModeRes *res, const drmModeConnector *c, uint32_t used)
{
	for (int e = 0; e < c->count_encoders; e++) {
		drmModeEncoder *enc = drmModeGetEncoder(fd, c->encoders[e]);
		int found = -1;

		for (int ci = 0; enc && ci < res->count_crtcs && ci < 32 && found < 0; ci++)
			if ((enc->possible_crtcs & (1u << ci)) && !(used & (1u << ci)))
				found = ci;
		drmModeFreeEncoder(enc);
		if (found >= 0)
			return found;
	}
	return -1;
}

/* Every connected connector with a mode and a CRTC of its own, at its preferred (else first) mode, in connector
 * order, at most MAX_OUTPUTS. 0, or -1 (said) when there is none. */
static int pick_outputs(struct kms *k)
{
	drmModeRes *res = drmModeGetResources(k->fd);
	uint32_t used = 0;

	if (!res)
		return fail("drmModeGetResources");
	for (int i = 0; i < res->count_connectors && k->n < MAX_OUTPUTS; i++) {
		drmModeConnector *c = drmModeGetConnector(k->fd, res->connectors[i]);
		int m = 0, ci;

		if (!c)
			continue;
		if (c->connection == DRM_MODE_CONNECTED && c->count_modes > 0 &&
		    (ci = free_crtc(k->fd, res, c, used)) >= 0) {
			struct output *o = &k->out[k->n];

			for (int j = 0; j < c->count_modes; j++)
				if (c->modes[j].type & DRM_MODE_TYPE_PREFERRED) {
					m = j;
					break;
				}
			used |= 1u << ci;
			o->idx = ++k->n;
			o->fd = k->fd;
			o->crtc_id = res->crtcs[ci];
			o->conn_id = c->connector_id;
			o->mode = c->modes[m];
		}
		drmModeFreeConnector(c);
	}
	if (!k->n)
		say_connectors(k->fd, res);
	drmModeFreeResources(res);
	if (!k->n) {
		errno = ENODEV;
		return fail("no connected output with a CRTC");
	}
	return 0;
}

static int make_fb(struct output *o, struct fb *f)
{
	struct drm_mode_create_dumb cr = { .width = o->mode.hdisplay, .height = o->mode.vdisplay, .bpp = 32 };
	struct drm_mode_map_dumb mp = { 0 };
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };

	if (drmIoctl(o->fd, DRM_IOCTL_MODE_CREATE_DUMB, &cr) < 0)
		return fail_output(o, "DRM_IOCTL_MODE_CREATE_DUMB");
	f->handle = cr.handle;
	f->pitch = cr.pitch;
	f->size = cr.size;
	handles[0] = cr.handle;
	pitches[0] = cr.pitch;
	if (drmModeAddFB2(o->fd, cr.width, cr.height, DRM_FORMAT_XRGB8888, handles, pitches, offsets, &f->id, 0) < 0)
		return fail_output(o, "drmModeAddFB2");
	mp.handle = cr.handle;
	if (drmIoctl(o->fd, DRM_IOCTL_MODE_MAP_DUMB, &mp) < 0)
		return fail_output(o, "DRM_IOCTL_MODE_MAP_DUMB");
	f->map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, (off_t)mp.offset);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return fail_output(o, "mmap of a dumb buffer");
	}
	return 0;
}

static void fill(struct fb *f, uint32_t w, uint32_t h, uint32_t x0, uint32_t y0, uint32_t rw, uint32_t rh,
		 uint32_t px)
{
	for (uint32_t y = y0; y < y0 + rh && y < h; y++) {
		uint32_t *row = (uint32_t *)(f->map + (size_t)y * f->pitch);

		for (uint32_t x = x0; x < x0 + rw && x < w; x++)
			row[x] = px;
	}
}

static int dirty(struct output *o, struct fb *f, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	drmModeClip clip = { .x1 = (uint16_t)x, .y1 = (uint16_t)y, .x2 = (uint16_t)(x + w), .y2 = (uint16_t)(y + h) };
	int r = drmModeDirtyFB(o->fd, f->id, &clip, 1);

	/* A driver without DIRTYFB scans out the buffer directly: nothing to push. */
	if (r < 0 && r != -ENOSYS && errno != ENOSYS)
		return fail_output(o, "drmModeDirtyFB");
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The drawing phases: each runs on one output for its budget, counting into o->n and o->t; every output runs its
 * own at once, on a thread of its own. */
static void *phase_fill(void *arg)
{
	struct output *o = arg;
	uint32_t w = o->mode.hdisplay, h = o->mode.vdisplay;
	double t0 = now();

	o->n = 0;
	do {
		fill(&o->fb[0], w, h, 0, 0, w, h, 0xff000000u | (uint32_t)(o->n * 0x010203));
		if ((o->rc = dirty(o, &o->fb[0], 0, 0, w, h)) < 0)
			break;
		o->n++;
	} while ((o->t = now() - t0) < o->budget);
	return NULL;
}

static void *phase_copy(void *arg)
{
	struct output *o = arg;
	uint32_t w = o->mode.hdisplay, h = o->mode.vdisplay;
	double t0;

	fill(&o->fb[1], w, h, 0, 0, w, h, KMS2D_COPY_XRGB);
	t0 = now();
	o->n = 0;
	do {
		memcpy(o->fb[0].map, o->fb[1].map, (size_t)o->fb[0].pitch * h);
		if ((o->rc = dirty(o, &o->fb[0], 0, 0, w, h)) < 0)
			break;
		o->n++;
	} while ((o->t = now() - t0) < o->budget);
	return NULL;
}

/* Partial updates: a RECT-sized square at a moving place. */
static void *phase_dirty(void *arg)
{
	struct output *o = arg;
	uint32_t w = o->mode.hdisplay, h = o->mode.vdisplay;
	double t0 = now();

	o->n = 0;
	do {
		uint32_t x = (uint32_t)(o->n * 97) % (w > RECT ? w - RECT : 1);
		uint32_t y = (uint32_t)(o->n * 61) % (h > RECT ? h - RECT : 1);

		fill(&o->fb[0], w, h, x, y, RECT, RECT, 0xffcc3300u ^ (uint32_t)o->n);
		if ((o->rc = dirty(o, &o->fb[0], x, y, RECT, RECT)) < 0)
			break;
		o->n++;
	} while ((o->t = now() - t0) < o->budget);
	return NULL;
}

/* Run a drawing phase on every output at once (one thread each; the first on this one). 0, or -1 (said). */
static int run_phase(struct kms *k, void *(*fn)(void *))
{
	pthread_t th[MAX_OUTPUTS];
	int started[MAX_OUTPUTS] = { 0 }, rc = 0;

	for (int i = 1; i < k->n; i++) {
		int e = pthread_create(&th[i], NULL, fn, &k->out[i]);

		if (e) {
			errno = e;
			rc = fail_output(&k->out[i], "pthread_create");
			break;
		}
		started[i] = 1;
	}
	if (!rc)
		fn(&k->out[0]);
	for (int i = 1; i < k->n; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	for (int i = 0; i < k->n && !rc; i++)
		rc = k->out[i].rc;
	return rc;
}

/* A phase's rates: the sum over the outputs, and each output's own where there are several. */
static void print_rates(const struct kms *k, const char *phase, int with_mb)
{
	double per_s = 0, mb_per_s = 0;

	for (int i = 0; i < k->n; i++) {
		const struct output *o = &k->out[i];
		double r = o->t > 0 ? o->n / o->t : 0, mb = r * o->mode.hdisplay * o->mode.vdisplay * 4 / 1e6;

		per_s += r;
		mb_per_s += mb;
		if (k->n > 1) {
			printf("output%d.%s.per_s: %.2f\n", o->idx, phase, r);
			if (with_mb)
				printf("output%d.%s.mb_per_s: %.2f\n", o->idx, phase, mb);
		}
	}
	printf("%s.per_s: %.2f\n", phase, per_s);
	if (with_mb)
		printf("%s.mb_per_s: %.2f\n", phase, mb_per_s);
}

static void on_flip(int fd, unsigned seq, unsigned sec, unsigned usec, void *data)
{
	struct output *o = data;

	(void)fd;
	(void)seq;
	(void)sec;
	(void)usec;
	if (o->nlat < MAX_FLIPS)
		o->lat[o->nlat++] = (now() - o->sent) * 1000.0;
	o->pending = 0;
}

/* Queue o's next flip to its other buffer. 0, or -1 (said). */
static int flip_next(struct output *o)
{
	o->sent = now();
	o->pending = 1;
	if (drmModePageFlip(o->fd, o->crtc_id, o->fb[o->cur].id, DRM_MODE_PAGE_FLIP_EVENT, o) < 0)
		return fail_output(o, "drmModePageFlip");
	o->cur ^= 1;
	return 0;
}

/* p50 and p99 of every output's flip latencies together. */
static void print_latency(const struct kms *k, int total)
{
	double *all = malloc(sizeof(double) * (size_t)(total ? total : 1));
	int n = 0;

	for (int i = 0; all && i < k->n; i++) {
		memcpy(all + n, k->out[i].lat, sizeof(double) * (size_t)k->out[i].nlat);
		n += k->out[i].nlat;
	}
	if (!all || !n) {
		printf("flip.latency_p50_ms: 0\nflip.latency_p99_ms: 0\n");
		free(all);
		return;
	}
	qsort(all, (size_t)n, sizeof(double), cmp_double);
	printf("flip.latency_p50_ms: %.3f\nflip.latency_p99_ms: %.3f\n", all[n / 2], all[(size_t)((n - 1) * 0.99)]);
	free(all);
}

/* Page flips between each output's two buffers, every output flipping on its own (one flip in flight each), each
 * flip waited for: the rates and the latency from request to event. 0, or -1 (said). */
static int phase_flip(struct kms *k, double budget)
{
	drmEventContext ev = { .version = 2, .page_flip_handler = on_flip };
	double t0 = now();
	int left = k->n, total = 0;

	for (int i = 0; i < k->n; i++) {
		struct output *o = &k->out[i];

		o->nlat = o->finished = 0;
		o->cur = 1;
		if (!o->lat && !(o->lat = malloc(sizeof(double) * MAX_FLIPS)))
			return fail_output(o, "the flip latencies' memory");
		if (flip_next(o) < 0)
			return -1;
	}
	while (left) {
		struct pollfd p = { .fd = k->fd, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0) {
			errno = ETIMEDOUT;
			for (int i = 0; i < k->n; i++)
				if (k->out[i].pending)
					return fail_output(&k->out[i], "waiting for a page-flip event");
			return fail("waiting for a page-flip event");
		}
		drmHandleEvent(k->fd, &ev);
		for (int i = 0; i < k->n; i++) {
			struct output *o = &k->out[i];

			if (o->pending || o->finished)
				continue;
			o->t = now() - t0;
			if (o->t >= budget || o->nlat >= MAX_FLIPS) {
				o->finished = 1;
				o->n = o->nlat;
				total += o->nlat;
				left--;
			} else if (flip_next(o) < 0) {
				return -1;
			}
		}
	}
	print_rates(k, "flip", 0);
	print_latency(k, total);
	if (k->n > 1)
		for (int i = 0; i < k->n; i++) {
			struct output *o = &k->out[i];

			if (!o->nlat)
				continue;
			qsort(o->lat, (size_t)o->nlat, sizeof(double), cmp_double);
			printf("output%d.flip.latency_p50_ms: %.3f\n", o->idx, o->lat[o->nlat / 2]);
			printf("output%d.flip.latency_p99_ms: %.3f\n", o->idx, o->lat[(size_t)((o->nlat - 1) * 0.99)]);
		}
	return 0;
}

/* What the outputs show, for the result's surface: one mode, or every mode joined by '+' (the count and the first
 * when that would not fit a line of 63). */
static void print_modes(const struct kms *k)
{
	char all[64] = "";
	size_t len = 0;
	int fits = 1;

	printf("outputs: %d\n", k->n);
	for (int i = 0; i < k->n; i++) {
		const drmModeModeInfo *m = &k->out[i].mode;
		int w = snprintf(all + len, sizeof(all) - len, "%s%ux%u@%u", i ? "+" : "", m->hdisplay, m->vdisplay,
				 m->vrefresh);

		if (k->n > 1)
			printf("output%d.mode: %ux%u@%u\n", k->out[i].idx, m->hdisplay, m->vdisplay, m->vrefresh);
		if (w < 0 || (size_t)w >= sizeof(all) - len)
			fits = 0;
		else
			len += (size_t)w;
	}
	if (fits)
		printf("mode: %s\n", all);
	else
		printf("mode: %d outputs, %ux%u@%u first\n", k->n, k->out[0].mode.hdisplay, k->out[0].mode.vdisplay,
		       k->out[0].mode.vrefresh);
}

/* The outputs driven: connectors, modes and two dumb buffers each, the first one shown. 0, or -1 (said). */
static int set_up(struct kms *k, double budget)
{
	if (drmSetMaster(k->fd) < 0 && errno != EINVAL)
		fprintf(stderr, "kms2d: not DRM master (%s); mode setting may fail\n", strerror(errno));
	if (pick_outputs(k) < 0)
		return -1;
	for (int i = 0; i < k->n; i++) {
		struct output *o = &k->out[i];

		o->budget = budget;
		if (make_fb(o, &o->fb[0]) < 0 || make_fb(o, &o->fb[1]) < 0)
			return -1;
	}
	print_modes(k);
	for (int i = 0; i < k->n; i++) {
		struct output *o = &k->out[i];

		o->saved = drmModeGetCrtc(k->fd, o->crtc_id);
		if (drmModeSetCrtc(k->fd, o->crtc_id, o->fb[0].id, 0, 0, &o->conn_id, 1, &o->mode) < 0)
			return fail_output(o, "drmModeSetCrtc");
	}
	return 0;
}

/* The drawing phases, in the order they run (the flips come last). */
static const struct {
	const char *name;
	void *(*fn)(void *);
	int with_mb; /* also says MB/s */
} phases[] = {
	{ "fill", phase_fill, 1 },
	{ "copy", phase_copy, 1 },
	{ "dirty", phase_dirty, 0 },
};

/* Every CRTC as it was, the buffers gone, the device closed. */
static void tear_down(struct kms *k)
{
	for (int i = 0; i < k->n; i++) {
		struct output *o = &k->out[i];

		if (o->saved) {
			drmModeSetCrtc(k->fd, o->saved->crtc_id, o->saved->buffer_id, o->saved->x, o->saved->y,
				       &o->conn_id, 1, &o->saved->mode);
			drmModeFreeCrtc(o->saved);
		}
		for (int b = 0; b < 2; b++) {
			struct fb *f = &o->fb[b];

			if (f->map)
				munmap(f->map, f->size);
			if (f->id)
				drmModeRmFB(k->fd, f->id);
			if (f->handle) {
				struct drm_mode_destroy_dumb d = { .handle = f->handle };

				drmIoctl(k->fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
			}
		}
		free(o->lat);
	}
	if (k->fd >= 0)
		close(k->fd);
}

int main(int argc, char **argv)
{
	const char *device = NULL;
	double budget = 2.0;
	char used[256] = "";
	struct kms k = { .fd = -1 };
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			device = argv[++i];
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			budget = strtod(argv[++i], NULL);
			if (!(budget > 0 && budget <= 600)) {
				fprintf(stderr, "kms2d: --seconds takes 0 < s <= 600\n");
				return 1;
			}
		} else {
			fprintf(stderr, "usage: kms2d [--device /dev/dri/cardN] [--seconds S]\n");
			return 1;
		}
	}
	printf("kms2d-format: 1\n");
	k.fd = open_device(device, used, sizeof(used));
	if (k.fd < 0) {
		printf("skip: no KMS device with dumb buffers (%s)\n", device ? device : "no /dev/dri/card*");
		return EXIT_SKIP;
	}
	drmVersion *v = drmGetVersion(k.fd);

	printf("device: %s\ndriver: %s\n", used, v ? v->name : "?");
	drmFreeVersion(v);
	if (set_up(&k, budget) == 0) {
		int bad = 0;

		for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]) && !bad; i++)
			if (!(bad = run_phase(&k, phases[i].fn)))
				print_rates(&k, phases[i].name, phases[i].with_mb);
		if (!bad && phase_flip(&k, budget) == 0) {
			printf("done: 1\n");
			rc = 0;
		}
	}
	tear_down(&k);
	return rc;
}
