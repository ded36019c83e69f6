/* gpu_cmd_fuzz.c: libFuzzer target for the virtio-gpu command decoder and the
 * virgl command scanner. The input is a series of requests (u16 length, u8
 * queue, bytes) served by one vGPU over a memfd "guest RAM" with a resource
 * table that persists across the series, then the same bytes as a virgl
 * command stream. Nothing may crash, leak or touch memory outside the guest's. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device/gpu_device.h"
#include "device/virgl_scan.h"

#define RAM (1u << 20)
#define IN 0x1000
#define OUT 0x40000

static uint32_t lookup_odd(void *ctx, uint32_t id)
{
	(void)ctx;
	return (id & 1) ? id + 1000 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static uint8_t *ram;
	static struct vdev vd;
	static struct gpu_device gd;
	char err[128];
	size_t off = 0;

	if (fd < 0) {
		struct virtio_gpu_config cfg;

		fd = memfd_create("fuzz-ram", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, RAM) < 0)
			abort();
		ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		gpu_device_config(&cfg, 0);
		vdev_init(&vd, -1, 2, gpu_device_features(0), &cfg, sizeof(cfg), gpu_device_handle, &gd);
		if (ram == MAP_FAILED || guest_mem_add(&vd.mem, fd, 0, RAM, 0, 0, err, sizeof(err)) < 0)
			abort();
	}
	gpu_device_init(&gd, &vd);
	/* Odd inputs get the most outputs a vGPU may have (two with modes given): every scanout ID is in reach. */
	if (size && (data[0] & 1)) {
		static const struct gpu_output_mode modes[2] = { { 1920, 1080 }, { 64, 4095 } };

		if (gpu_device_set_outputs(&gd, VIRTIO_GPU_MAX_SCANOUTS, modes, 2, err, sizeof(err)) < 0)
			abort();
	}
	while (off + 3 <= size) {
		uint16_t len;
		unsigned qi = data[off + 2] & 1;
		struct vring_req req = { 0 };

		memcpy(&len, data + off, 2);
		off += 3;
		if (len > size - off)
			len = (uint16_t)(size - off);
		memcpy(ram + IN, data + off, len);
		/* Backings point at the guest RAM the requests live in: attach_backing entries land here too. */
		req.in[0] = (struct iovec){ ram + IN, len ? len : 1 };
		req.nin = 1;
		req.in_len = req.in[0].iov_len;
		req.out[0] = (struct iovec){ ram + OUT, 4096 };
		req.nout = 1;
		req.out_len = 4096;
		gpu_device_handle(&gd, qi, &req);
		off += len;
	}
	gpu_device_free(&gd);
	if (size >= 4) {
		uint32_t *dw = malloc(size & ~(size_t)3);

		if (dw) {
			memcpy(dw, data, size & ~(size_t)3);
			vscan_translate(dw, size / 4, lookup_odd, NULL, err, sizeof(err));
			free(dw);
		}
	}
	return 0;
}
