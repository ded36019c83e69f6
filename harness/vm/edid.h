/* edid.h: minimal EDID 1.3 blocks advertising one mode, given to the guest
 * kernel (drm.edid_firmware) so that KMS clients that take the largest mode,
 * like glmark2-es2-drm 2023.01, render at the planned size: 640x480@60, or
 * the mode of each output the plan's [guest] displays give. */
#ifndef VGPUBENCH_EDID_H
#define VGPUBENCH_EDID_H

#include <stddef.h>

#include "edid_block.h" /* common/: the block's builder, EDID_BLOCK */

#define EDID_FIRMWARE_NAME "edid/vgpubench-640x480.bin"

/* Fill out[128] with the EDID; returns 0. */
int edid_640x480(unsigned char out[EDID_BLOCK]);

/* The EDID offering width x height alone, as the mediator's (common/ edid_build_mode), and the name it has under
 * /lib/firmware (edid/vgpubench-cvt-WxH.bin). 0, or -1 when no EDID can carry the mode. */
int edid_for_mode(unsigned char out[EDID_BLOCK], int width, int height);
void edid_firmware_name(char *out, size_t len, int width, int height);

#endif
