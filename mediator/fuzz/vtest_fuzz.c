/* vtest_fuzz.c: libFuzzer target for the vtest protocol of one client
 * (vtest_dev.c): the input is the byte stream a client sends, served by a
 * fresh client on a vGPU without the renderer (so every 3D command is
 * refused by the vGPU and the parser, the per-command checks and the drop
 * paths are what runs). Nothing may crash, leak, read past a message or
 * leave shared memory behind. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>

#include "device/gpu_device.h"
#include "device/vtest_dev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_device gd;
	struct vtest_dev t;

	gpu_device_init(&gd, NULL);
	vtest_init(&t, -1, &gd);
	vtest_feed(&t, data, size);
	if (t.shm_bytes > VTEST_MAX_SHM_BYTES || t.len - t.off > VTEST_IN_MAX + 65536)
		abort();
	vtest_free(&t);
	if (t.shm.live || gd.res.live)
		abort();
	return 0;
}
