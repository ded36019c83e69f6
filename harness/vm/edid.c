/* edid.c: the guests' EDID (edid.h): VESA DMT 640x480@60 on a 320 x 240 mm screen, built by common/edid_block.c. */
#include "vm/edid.h"

int edid_640x480(unsigned char e[EDID_BLOCK])
{
	/* DMT 640x480@60: 25.175 MHz, h 640+16+96+48, v 480+10+2+33. */
	static const struct edid_timing dmt = { .pclk_10khz = 2518, .ha = 640, .hb = 160, .hfp = 16, .hsw = 96,
						.va = 480, .vb = 45, .vfp = 10, .vsw = 2 };

	edid_build(e, &dmt, 320, 240, "vgpubench");
	return 0;
}
