/*
 * kms2d: a 2D engine benchmark on any KMS device, with libdrm only.
 *
 * On the first connected connector, at its preferred mode, with two XRGB8888
 * dumb buffers it measures, each for a time budget:
 *   fill   full-screen solid fills, each pushed with DIRTYFB   (fills/s, MB/s)
 *   copy   full-screen blits from the other buffer + DIRTYFB   (copies/s, MB/s)
 *   dirty  64x64 partial updates, each one DIRTYFB rectangle  (updates/s)
 *   flip   page flips between the buffers, waiting for each
 *          flip's vblank event                                 (flips/s, latency p50/p99)
 * Output is one "key: value" per line, stable for parsers (kms2d-format: 1).
 * Exit status: 0 done, 77 skipped (no KMS device: "skip: reason"), 1 error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
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

struct fb {
	uint32_t handle, pitch, id;
	uint64_t size;
	uint8_t *map;
};

struct kms {
	int fd;
	uint32_t conn_id, crtc_id;
	drmModeModeInfo mode;
	struct fb fb[2];
	drmModeCrtc *saved;
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

/* First connected connector, its preferred (else first) mode, and a CRTC for it. */
static int pick_output(struct kms *k)
{
	drmModeRes *res = drmModeGetResources(k->fd);
	int found = 0;

	if (!res)
		return fail("drmModeGetResources");
	for (int i = 0; i < res->count_connectors && !found; i++) {
		drmModeConnector *c = drmModeGetConnector(k->fd, res->connectors[i]);

		if (!c)
			continue;
		if (c->connection == DRM_MODE_CONNECTED && c->count_modes > 0) {
			int m = 0;

			for (int j = 0; j < c->count_modes; j++)
				if (c->modes[j].type & DRM_MODE_TYPE_PREFERRED) {
					m = j;
					break;
				}
			for (int e = 0; e < c->count_encoders && !found; e++) {
				drmModeEncoder *enc = drmModeGetEncoder(k->fd, c->encoders[e]);

				for (int ci = 0; enc && ci < res->count_crtcs; ci++)
					if (enc->possible_crtcs & (1u << ci)) {
						k->crtc_id = res->crtcs[ci];
						found = 1;
						break;
					}
				drmModeFreeEncoder(enc);
			}
			if (found) {
				k->conn_id = c->connector_id;
				k->mode = c->modes[m];
			}
		}
		drmModeFreeConnector(c);
	}
	if (!found) {
		/* What the driver shows instead, for the log. */
		for (int i = 0; i < res->count_connectors; i++) {
			drmModeConnector *c = drmModeGetConnector(k->fd, res->connectors[i]);

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
	drmModeFreeResources(res);
	if (!found) {
		errno = ENODEV;
		return fail("no connected output with a CRTC");
	}
	return 0;
}

static int make_fb(struct kms *k, struct fb *f)
{
	struct drm_mode_create_dumb cr = { .width = k->mode.hdisplay, .height = k->mode.vdisplay, .bpp = 32 };
	struct drm_mode_map_dumb mp = { 0 };
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };

	if (drmIoctl(k->fd, DRM_IOCTL_MODE_CREATE_DUMB, &cr) < 0)
		return fail("DRM_IOCTL_MODE_CREATE_DUMB");
	f->handle = cr.handle;
	f->pitch = cr.pitch;
	f->size = cr.size;
	handles[0] = cr.handle;
	pitches[0] = cr.pitch;
	if (drmModeAddFB2(k->fd, cr.width, cr.height, DRM_FORMAT_XRGB8888, handles, pitches, offsets, &f->id, 0) < 0)
		return fail("drmModeAddFB2");
	mp.handle = cr.handle;
	if (drmIoctl(k->fd, DRM_IOCTL_MODE_MAP_DUMB, &mp) < 0)
		return fail("DRM_IOCTL_MODE_MAP_DUMB");
	f->map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, (off_t)mp.offset);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return fail("mmap of a dumb buffer");
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

static int dirty(struct kms *k, struct fb *f, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	drmModeClip clip = { .x1 = (uint16_t)x, .y1 = (uint16_t)y, .x2 = (uint16_t)(x + w), .y2 = (uint16_t)(y + h) };
	int r = drmModeDirtyFB(k->fd, f->id, &clip, 1);

	/* A driver without DIRTYFB scans out the buffer directly: nothing to push. */
	return r < 0 && r != -ENOSYS && errno != ENOSYS ? -1 : 0;
}

struct flip_state {
	double sent;
	double lat[MAX_FLIPS];
	int n;
	int pending;
};

static void on_flip(int fd, unsigned seq, unsigned sec, unsigned usec, void *data)
{
	struct flip_state *s = data;

	(void)fd;
	(void)seq;
	(void)sec;
	(void)usec;
	if (s->n < MAX_FLIPS)
		s->lat[s->n++] = (now() - s->sent) * 1000.0;
	s->pending = 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Each phase runs for budget seconds and prints its rates; 0, or -1 with the failing call said. */
static int phase_fill(struct kms *k, uint32_t w, uint32_t h, double budget)
{
	double mb = (double)w * h * 4 / 1e6, t0 = now(), t;
	long n = 0;

	do {
		fill(&k->fb[0], w, h, 0, 0, w, h, 0xff000000u | (uint32_t)(n * 0x010203));
		if (dirty(k, &k->fb[0], 0, 0, w, h) < 0)
			return fail("drmModeDirtyFB");
		n++;
	} while ((t = now() - t0) < budget);
	printf("fill.per_s: %.2f\nfill.mb_per_s: %.2f\n", n / t, n * mb / t);
	return 0;
}

static int phase_copy(struct kms *k, uint32_t w, uint32_t h, double budget)
{
	double mb = (double)w * h * 4 / 1e6, t0, t;
	long n = 0;

	fill(&k->fb[1], w, h, 0, 0, w, h, KMS2D_COPY_XRGB);
	t0 = now();
	do {
		memcpy(k->fb[0].map, k->fb[1].map, (size_t)k->fb[0].pitch * h);
		if (dirty(k, &k->fb[0], 0, 0, w, h) < 0)
			return fail("drmModeDirtyFB");
		n++;
	} while ((t = now() - t0) < budget);
	printf("copy.per_s: %.2f\ncopy.mb_per_s: %.2f\n", n / t, n * mb / t);
	return 0;
}

/* Partial updates: a RECT-sized square at a moving place. */
static int phase_dirty(struct kms *k, uint32_t w, uint32_t h, double budget)
{
	double t0 = now(), t;
	long n = 0;

	do {
		uint32_t x = (uint32_t)(n * 97) % (w > RECT ? w - RECT : 1), y = (uint32_t)(n * 61) % (h > RECT ? h - RECT : 1);

		fill(&k->fb[0], w, h, x, y, RECT, RECT, 0xffcc3300u ^ (uint32_t)n);
		if (dirty(k, &k->fb[0], x, y, RECT, RECT) < 0)
			return fail("drmModeDirtyFB");
		n++;
	} while ((t = now() - t0) < budget);
	printf("dirty.per_s: %.2f\n", n / t);
	return 0;
}

/* Page flips between the two buffers, each waited for: the rate and the latency from request to event. */
static int phase_flip(struct kms *k, double budget)
{
	static struct flip_state fs;
	drmEventContext ev = { .version = 2, .page_flip_handler = on_flip };
	double t0 = now(), t;
	int cur = 1;

	fs.n = 0;
	do {
		fs.sent = now();
		fs.pending = 1;
		if (drmModePageFlip(k->fd, k->crtc_id, k->fb[cur].id, DRM_MODE_PAGE_FLIP_EVENT, &fs) < 0)
			return fail("drmModePageFlip");
		while (fs.pending) {
			struct pollfd p = { .fd = k->fd, .events = POLLIN };

			if (poll(&p, 1, 5000) <= 0) {
				errno = ETIMEDOUT;
				return fail("waiting for a page-flip event");
			}
			drmHandleEvent(k->fd, &ev);
		}
		cur ^= 1;
	} while ((t = now() - t0) < budget && fs.n < MAX_FLIPS);
	qsort(fs.lat, (size_t)fs.n, sizeof(double), cmp_double);
	printf("flip.per_s: %.2f\nflip.latency_p50_ms: %.3f\nflip.latency_p99_ms: %.3f\n", fs.n / t, fs.lat[fs.n / 2],
	       fs.lat[(size_t)((fs.n - 1) * 0.99)]);
	return 0;
}

/* The output driven: its connector, mode and two dumb buffers, the first one shown. 0, or -1 (said). */
static int set_up(struct kms *k)
{
	if (drmSetMaster(k->fd) < 0 && errno != EINVAL)
		fprintf(stderr, "kms2d: not DRM master (%s); mode setting may fail\n", strerror(errno));
	if (pick_output(k) < 0 || make_fb(k, &k->fb[0]) < 0 || make_fb(k, &k->fb[1]) < 0)
		return -1;
	printf("mode: %ux%u@%u\n", k->mode.hdisplay, k->mode.vdisplay, k->mode.vrefresh);
	k->saved = drmModeGetCrtc(k->fd, k->crtc_id);
	if (drmModeSetCrtc(k->fd, k->crtc_id, k->fb[0].id, 0, 0, &k->conn_id, 1, &k->mode) < 0)
		return fail("drmModeSetCrtc");
	return 0;
}

/* The CRTC as it was, the buffers gone, the device closed. */
static void tear_down(struct kms *k)
{
	if (k->saved) {
		drmModeSetCrtc(k->fd, k->saved->crtc_id, k->saved->buffer_id, k->saved->x, k->saved->y, &k->conn_id, 1,
			       &k->saved->mode);
		drmModeFreeCrtc(k->saved);
	}
	for (int i = 0; i < 2; i++) {
		if (k->fb[i].map)
			munmap(k->fb[i].map, k->fb[i].size);
		if (k->fb[i].id)
			drmModeRmFB(k->fd, k->fb[i].id);
		if (k->fb[i].handle) {
			struct drm_mode_destroy_dumb d = { .handle = k->fb[i].handle };

			drmIoctl(k->fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
		}
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
	if (set_up(&k) == 0) {
		uint32_t w = k.mode.hdisplay, h = k.mode.vdisplay;

		if (phase_fill(&k, w, h, budget) == 0 && phase_copy(&k, w, h, budget) == 0 &&
		    phase_dirty(&k, w, h, budget) == 0 && phase_flip(&k, budget) == 0) {
			printf("done: 1\n");
			rc = 0;
		}
	}
	tear_down(&k);
	return rc;
}
