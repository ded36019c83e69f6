/* edid_block.h: EDID 1.3 base blocks (layout from the VESA E-EDID standard) that offer one mode, as preferred, and
 * nothing that contradicts it: for the guests' kernel (the harness's drm.edid_firmware) and for a vGPU's outputs
 * (the mediator's GET_EDID when it is given their modes). */
#ifndef VGPUBENCH_EDID_BLOCK_H
#define VGPUBENCH_EDID_BLOCK_H

#include <stdint.h>

#define EDID_BLOCK 128
#define EDID_MIN_SIDE 64   /* the smallest side a mode may have here */
#define EDID_MAX_SIDE 4095 /* a detailed timing's 12-bit active width and height */

/* A mode written WIDTHxHEIGHT (digits only) into *w and *h. 0, or -1 when s is not that; its range is
 * edid_cvt_rb's to judge. */
int edid_mode_parse(const char *s, uint32_t *w, uint32_t *h);

/* A detailed timing: pixel clock in 10 kHz units, active and blanking pixels and lines, front porch and sync. */
struct edid_timing {
	uint32_t pclk_10khz;
	uint32_t ha, hb, hfp, hsw;
	uint32_t va, vb, vfp, vsw;
};

/* The CVT reduced-blanking timing of w x h at 60 Hz into t. 0, or -1 when no EDID can carry it (a side below
 * EDID_MIN_SIDE or past EDID_MAX_SIDE). */
int edid_cvt_rb(uint32_t w, uint32_t h, struct edid_timing *t);

/* The block offering t alone (preferred; also as an established timing when it is 640x480), on a screen of hmm x
 * vmm millimetres, named name (at most 13 characters), with range limits around it. */
void edid_build(unsigned char e[EDID_BLOCK], const struct edid_timing *t, uint32_t hmm, uint32_t vmm,
		const char *name);

/* The block offering w x h alone (edid_cvt_rb's timing) on a screen of 96 pixels an inch, named name: what the
 * mediator answers GET_EDID with and the harness gives a planned output. 0, or -1 (nothing written) when no EDID
 * can carry the mode. */
int edid_build_mode(unsigned char e[EDID_BLOCK], uint32_t w, uint32_t h, const char *name);

#endif
