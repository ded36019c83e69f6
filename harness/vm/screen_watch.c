/* screen_watch.c: a display watched through QMP screendump (see the header). */
#define _GNU_SOURCE
#include "vm/screen_watch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/qmp.h"
#include "util.h"

/* The next header number of a PPM at *p (whitespace and comments skipped), or -1. */
static long ppm_number(const unsigned char *buf, size_t len, size_t *p)
{
	long v = 0;
	int digits = 0;

	for (;;) {
		while (*p < len && isspace(buf[*p]))
			(*p)++;
		if (*p < len && buf[*p] == '#') {
			while (*p < len && buf[*p] != '\n')
				(*p)++;
			continue;
		}
		break;
	}
	while (*p < len && isdigit(buf[*p]) && v < 1000000) {
		v = v * 10 + (buf[(*p)++] - '0');
		digits++;
	}
	return digits && v < 1000000 ? v : -1;
}

int ppm_is_solid(const char *path, uint32_t rgb, int *w, int *h)
{
	size_t len, p = 2;
	unsigned char *buf = (unsigned char *)vb_read_file_max(path, 64u << 20, &len);
	long width, height, maxval;
	int solid = 1;

	if (!buf || len < 2 || buf[0] != 'P' || buf[1] != '6') {
		free(buf);
		return -1;
	}
	width = ppm_number(buf, len, &p);
	height = ppm_number(buf, len, &p);
	maxval = ppm_number(buf, len, &p);
	/* One whitespace byte, then width × height RGB triples. */
	if (width <= 0 || height <= 0 || maxval != 255 || p >= len || !isspace(buf[p]) ||
	    len - p - 1 < (size_t)width * (size_t)height * 3) {
		free(buf);
		return -1;
	}
	*w = (int)width;
	*h = (int)height;
	p++;
	for (size_t i = 0; i < (size_t)width * (size_t)height && solid; i++, p += 3)
		solid = buf[p] == (rgb >> 16 & 0xff) && buf[p + 1] == (rgb >> 8 & 0xff) && buf[p + 2] == (rgb & 0xff);
	free(buf);
	return solid && width >= 64 && height >= 64;
}

/* One dump and its check. */
static void look(struct screen_watch *sw, double t0)
{
	char *args = vb_strdupf("{\"filename\": \"%s\"}", sw->dump), err[256];
	int w, h;

	if (qmp_execute(sw->qmp, "screendump", args, 5, err, sizeof(err)) < 0) {
		snprintf(sw->error, sizeof(sw->error), "%s", err);
	} else {
		sw->dumps++;
		if (ppm_is_solid(sw->dump, sw->rgb, &w, &h) == 1) {
			char *keep = vb_strdupf("%s.seen.ppm", sw->dump);

			sw->seen = 1;
			sw->w = w;
			sw->h = h;
			sw->seen_s = vb_now() - t0;
			if (rename(sw->dump, keep) < 0)
				snprintf(sw->error, sizeof(sw->error), "cannot keep the matching dump as %s", keep);
			free(keep);
		}
	}
	free(args);
}

static void *watch(void *arg)
{
	struct screen_watch *sw = arg;
	double t0 = vb_now();

	while (!atomic_load(&sw->stop) && !sw->seen) {
		double next = vb_now() + sw->period_s;

		look(sw, t0);
		while (!atomic_load(&sw->stop) && vb_now() < next)
			usleep(20000);
	}
	if (!sw->seen)
		look(sw, t0);
	return NULL;
}

int screen_watch_start(struct screen_watch *sw, const char *qmp, const char *dump, uint32_t rgb, double period_s)
{
	memset(sw, 0, sizeof(*sw));
	snprintf(sw->qmp, sizeof(sw->qmp), "%s", qmp);
	snprintf(sw->dump, sizeof(sw->dump), "%s", dump);
	sw->rgb = rgb & 0xffffff;
	sw->period_s = period_s;
	atomic_init(&sw->stop, 0);
	if (pthread_create(&sw->thread, NULL, watch, sw) != 0)
		return -1;
	sw->running = 1;
	return 0;
}

void screen_watch_stop(struct screen_watch *sw)
{
	if (!sw->running)
		return;
	atomic_store(&sw->stop, 1);
	pthread_join(sw->thread, NULL);
	sw->running = 0;
}
