/* edid_block.c: EDID 1.3 base blocks of one mode (edid_block.h): the CVT reduced-blanking timing of a size (VESA
 * CVT 1.1, version 1 reduced blanking: 160 pixels of horizontal blanking, at least 460 us of vertical blanking),
 * and the block around a detailed timing. */
#include "edid_block.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int edid_mode_parse(const char *s, uint32_t *w, uint32_t *h)
{
	unsigned long a, b;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	a = strtoul(s, &end, 10);
	if (*end != 'x' || !isdigit((unsigned char)end[1]))
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (*end || a > UINT32_MAX || b > UINT32_MAX)
		return -1;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

int edid_cvt_rb(uint32_t w, uint32_t h, struct edid_timing *t)
{
	/* Vertical sync width by aspect ratio (CVT), 10 lines for any other. */
	uint32_t vsw = w * 3 == h * 4 ? 4 : w * 9 == h * 16 ? 5 : w * 10 == h * 16 ? 6 : w * 4 == h * 5 ? 7 : 10;
	double line_us, pclk_mhz;
	uint32_t vb;

	if (w < EDID_MIN_SIDE || h < EDID_MIN_SIDE || w > EDID_MAX_SIDE || h > EDID_MAX_SIDE)
		return -1;
	w &= ~7u; /* CVT rounds the width to a character cell of 8 */
	/* The line period from the frame less the minimum blanking, then the blanking lines that cover 460 us, at least
	 * the front porch (3), the sync and a back porch of 6. */
	line_us = (1e6 / 60 - 460) / h;
	vb = (uint32_t)(460 / line_us) + 1;
	if (vb < 3 + vsw + 6)
		vb = 3 + vsw + 6;
	pclk_mhz = 60.0 * (w + 160) * (h + vb) / 1e6;
	pclk_mhz = (double)(uint32_t)(pclk_mhz / 0.25) * 0.25; /* CVT's clock step */
	*t = (struct edid_timing){ .pclk_10khz = (uint32_t)(pclk_mhz * 100 + 0.5),
				   .ha = w, .hb = 160, .hfp = 48, .hsw = 32,
				   .va = h, .vb = vb, .vfp = 3, .vsw = vsw };
	return 0;
}

static void descriptor_text(unsigned char *d, unsigned char tag, const char *text)
{
	size_t n = strlen(text);

	memset(d, 0, 18);
	d[3] = tag;
	for (size_t i = 0; i < 13; i++)
		d[5 + i] = i < n ? (unsigned char)text[i] : (i == n ? '\n' : ' ');
}

static void detailed(unsigned char *d, const struct edid_timing *t, uint32_t hmm, uint32_t vmm)
{
	d[0] = t->pclk_10khz & 0xff;
	d[1] = (t->pclk_10khz >> 8) & 0xff;
	d[2] = t->ha & 0xff;
	d[3] = t->hb & 0xff;
	d[4] = (unsigned char)((((t->ha >> 8) & 0xf) << 4) | ((t->hb >> 8) & 0xf));
	d[5] = t->va & 0xff;
	d[6] = t->vb & 0xff;
	d[7] = (unsigned char)((((t->va >> 8) & 0xf) << 4) | ((t->vb >> 8) & 0xf));
	d[8] = t->hfp & 0xff;
	d[9] = t->hsw & 0xff;
	d[10] = (unsigned char)(((t->vfp & 0xf) << 4) | (t->vsw & 0xf));
	d[11] = (unsigned char)((((t->hfp >> 8) & 3) << 6) | (((t->hsw >> 8) & 3) << 4) | (((t->vfp >> 4) & 3) << 2) |
				((t->vsw >> 4) & 3));
	d[12] = hmm & 0xff;
	d[13] = vmm & 0xff;
	d[14] = (unsigned char)((((hmm >> 8) & 0xf) << 4) | ((vmm >> 8) & 0xf));
	d[17] = 0x18; /* digital separate sync */
}

/* The width as four decimal digits read as hex (640 -> 0x0640): the product code says the mode. */
static unsigned product_code(uint32_t w)
{
	return (w / 1000 % 10) << 12 | (w / 100 % 10) << 8 | (w / 10 % 10) << 4 | (w % 10);
}

void edid_build(unsigned char e[EDID_BLOCK], const struct edid_timing *t, uint32_t hmm, uint32_t vmm,
		const char *name)
{
	static const unsigned char header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	uint32_t htotal = t->ha + t->hb, khz = 0;
	unsigned sum = 0, product = product_code(t->ha);
	unsigned char *d;

	memset(e, 0, EDID_BLOCK);
	memcpy(e, header, sizeof(header));
	/* Manufacturer "VGB": three 5-bit letters, big-endian. */
	e[8] = (unsigned char)((22 << 2) | (7 >> 3));
	e[9] = (unsigned char)(((7 & 7) << 5) | 2);
	e[10] = product & 0xff;
	e[11] = (product >> 8) & 0xff;
	e[16] = 1;  /* week */
	e[17] = 36; /* 2026 - 1990 */
	e[18] = 1;  /* EDID 1.3 */
	e[19] = 3;
	e[20] = 0x80; /* digital input */
	e[21] = (unsigned char)((hmm + 5) / 10 > 255 ? 255 : (hmm + 5) / 10); /* cm */
	e[22] = (unsigned char)((vmm + 5) / 10 > 255 ? 255 : (vmm + 5) / 10);
	e[23] = 120;  /* gamma 2.2 */
	e[24] = 0x0a; /* RGB colour, first detailed timing is preferred, no GTF */
	if (t->ha == 640 && t->va == 480)
		e[35] = 0x20; /* established timing: 640x480@60 */
	for (int i = 38; i < 54; i++)
		e[i] = 0x01; /* standard timings unused */
	detailed(e + 54, t, hmm, vmm);
	descriptor_text(e + 72, 0xfc, name);
	/* Range limits: 59-61 Hz vertical, the line rate's kHz either side, the clock in 10 MHz steps above it. */
	if (htotal)
		khz = (uint32_t)((uint64_t)t->pclk_10khz * 10 / htotal);
	d = e + 90;
	d[3] = 0xfd;
	d[5] = 59;
	d[6] = 61;
	d[7] = (unsigned char)(khz > 255 ? 255 : khz);
	d[8] = (unsigned char)(khz + 1 > 255 ? 255 : khz + 1);
	d[9] = (unsigned char)((t->pclk_10khz + 999) / 1000 > 255 ? 255 : (t->pclk_10khz + 999) / 1000);
	d[10] = 0x00;
	d[11] = 0x0a;
	for (int i = 12; i < 18; i++)
		d[i] = ' ';
	e[108 + 3] = 0x10; /* dummy descriptor */
	for (int i = 0; i < EDID_BLOCK - 1; i++)
		sum += e[i];
	e[127] = (unsigned char)(256 - (sum & 0xff)) & 0xff;
}

int edid_build_mode(unsigned char e[EDID_BLOCK], uint32_t w, uint32_t h, const char *name)
{
	struct edid_timing t;

	if (edid_cvt_rb(w, h, &t) < 0)
		return -1;
	edid_build(e, &t, w * 254 / 960, h * 254 / 960, name);
	return 0;
}
