/* edid.c: builds the 128-byte EDID 1.3 base block (layout from the VESA
 * E-EDID standard) for the VESA DMT 640x480@60 timing. */
#include "vm/edid.h"

#include <string.h>

static void descriptor_text(unsigned char *d, unsigned char tag, const char *text)
{
	size_t n = strlen(text);

	memset(d, 0, 18);
	d[3] = tag;
	for (size_t i = 0; i < 13; i++)
		d[5 + i] = i < n ? (unsigned char)text[i] : (i == n ? '\n' : ' ');
}

int edid_640x480(unsigned char e[EDID_BLOCK])
{
	static const unsigned char header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	/* DMT 640x480@60: 25.175 MHz, h 640+16+96+48, v 480+10+2+33. */
	const unsigned pclk_10khz = 2518, ha = 640, hb = 160, va = 480, vb = 45;
	const unsigned hfp = 16, hsw = 96, vfp = 10, vsw = 2, hmm = 320, vmm = 240;
	unsigned char *d = e + 54;
	unsigned sum = 0;

	memset(e, 0, EDID_BLOCK);
	memcpy(e, header, sizeof(header));
	/* Manufacturer "VGB": three 5-bit letters, big-endian. */
	e[8] = (unsigned char)((22 << 2) | (7 >> 3));
	e[9] = (unsigned char)(((7 & 7) << 5) | 2);
	e[10] = 0x40; /* product code 0x0640 */
	e[11] = 0x06;
	e[16] = 1;  /* week */
	e[17] = 36; /* 2026 - 1990 */
	e[18] = 1;  /* EDID 1.3 */
	e[19] = 3;
	e[20] = 0x80; /* digital input */
	e[21] = 32;   /* cm */
	e[22] = 24;
	e[23] = 120;  /* gamma 2.2 */
	e[24] = 0x0a; /* RGB colour, first detailed timing is preferred, no GTF */
	e[35] = 0x20; /* established timing: 640x480@60 */
	for (int i = 38; i < 54; i++)
		e[i] = 0x01; /* standard timings unused */
	d[0] = pclk_10khz & 0xff;
	d[1] = pclk_10khz >> 8;
	d[2] = ha & 0xff;
	d[3] = hb & 0xff;
	d[4] = (unsigned char)(((ha >> 8) << 4) | (hb >> 8));
	d[5] = va & 0xff;
	d[6] = vb & 0xff;
	d[7] = (unsigned char)(((va >> 8) << 4) | (vb >> 8));
	d[8] = hfp & 0xff;
	d[9] = hsw & 0xff;
	d[10] = (unsigned char)(((vfp & 0xf) << 4) | (vsw & 0xf));
	d[11] = (unsigned char)(((hfp >> 8) << 6) | ((hsw >> 8) << 4) | ((vfp >> 4) << 2) | (vsw >> 4));
	d[12] = hmm & 0xff;
	d[13] = vmm & 0xff;
	d[14] = (unsigned char)(((hmm >> 8) << 4) | (vmm >> 8));
	d[17] = 0x18; /* digital separate sync */
	descriptor_text(e + 72, 0xfc, "vgpubench");
	/* Range limits: 59-61 Hz vertical, 31-32 kHz horizontal, 30 MHz max clock. */
	d = e + 90;
	d[3] = 0xfd;
	d[5] = 59;
	d[6] = 61;
	d[7] = 31;
	d[8] = 32;
	d[9] = 3;
	d[10] = 0x00;
	d[11] = 0x0a;
	for (int i = 12; i < 18; i++)
		d[i] = ' ';
	e[108 + 3] = 0x10; /* dummy descriptor */
	for (int i = 0; i < EDID_BLOCK - 1; i++)
		sum += e[i];
	e[127] = (unsigned char)(256 - (sum & 0xff)) & 0xff;
	return 0;
}
