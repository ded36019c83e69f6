/* screen_watch.h: watch a guest's display from outside while something runs
 * inside: a thread dumps the screen through QEMU's QMP (screendump, a PPM
 * file) every period and looks for a frame of one solid colour, pixel-exact.
 * The nested lab uses it to see that what its innermost guest drew reached
 * the outermost display. */
#ifndef VGPUBENCH_SCREEN_WATCH_H
#define VGPUBENCH_SCREEN_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct screen_watch {
	/* set by screen_watch_start */
	char qmp[512];  /* the QMP socket of the QEMU whose display is watched */
	char dump[512]; /* where each screen dump goes; the matching one is kept at dump + ".seen.ppm" */
	uint32_t rgb;   /* the colour looked for, 0xRRGGBB */
	double period_s;
	pthread_t thread;
	int running;
	atomic_int stop;
	/* results, to read after screen_watch_stop */
	int dumps;       /* screen dumps taken */
	int seen;        /* a frame all of colour rgb was on the screen */
	int w, h;        /* its size */
	double seen_s;   /* when, seconds after the start */
	char error[256]; /* the last dump that failed, and why ("" when none did) */
};

/* Start watching. 0, or -1 (no thread). */
int screen_watch_start(struct screen_watch *sw, const char *qmp, const char *dump, uint32_t rgb, double period_s);

/* Stop watching (one more dump first, unless seen already) and wait for the thread. Safe to call twice. */
void screen_watch_stop(struct screen_watch *sw);

/*
 * Is the binary PPM (P6, maxval 255) at path one solid colour rgb, of at
 * least 64x64 pixels? 1 yes, 0 no, -1 unreadable or malformed. *w and *h
 * get its size when it parses.
 */
int ppm_is_solid(const char *path, uint32_t rgb, int *w, int *h);

#endif
