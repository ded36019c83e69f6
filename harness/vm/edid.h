/* edid.h: a minimal EDID 1.3 block advertising one 640x480@60 mode, given to
 * the guest kernel (drm.edid_firmware) so that KMS clients that take the
 * largest mode, like glmark2-es2-drm 2023.01, render at the planned size. */
#ifndef VGPUBENCH_EDID_H
#define VGPUBENCH_EDID_H

#include "edid_block.h" /* common/: the block's builder, EDID_BLOCK */

#define EDID_FIRMWARE_NAME "edid/vgpubench-640x480.bin"

/* Fill out[128] with the EDID; returns 0. */
int edid_640x480(unsigned char out[EDID_BLOCK]);

#endif
