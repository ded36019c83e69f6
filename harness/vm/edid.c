/* edid.c: the guests' EDIDs (edid.h): VESA DMT 640x480@60 on a 320 x 240 mm screen, or a planned output's mode,
 * built by common/edid_block.c. */
#include "vm/edid.h"

#include <stdio.h>

int edid_640x480(unsigned char e[EDID_BLOCK])
{
	/* DMT 640x480@60: 25.175 MHz, h 640+16+96+48, v 480+10+2+33. */
	static const struct edid_timing dmt = { .pclk_10khz = 2518, .ha = 640, .hb = 160, .hfp = 16, .hsw = 96,
						.va = 480, .vb = 45, .vfp = 10, .vsw = 2 };

	edid_build(e, &dmt, 320, 240, "vgpubench");
	return 0;
}

int edid_for_mode(unsigned char out[EDID_BLOCK], int width, int height)
{
	if (width <= 0 || height <= 0)
		return -1;
	return edid_build_mode(out, (uint32_t)width, (uint32_t)height, "vgpubench");
}

void edid_firmware_name(char *out, size_t len, int width, int height)
{
	snprintf(out, len, "edid/vgpubench-cvt-%dx%d.bin", width, height);
}
