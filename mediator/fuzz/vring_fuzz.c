/* vring_fuzz.c: libFuzzer target for the split-virtqueue walker. The input
 * becomes the guest's side of a ring in a memfd "guest RAM": byte 0 picks the
 * queue size, byte 1 event-index on/off, the rest is laid over the
 * descriptor table, avail ring, used ring and indirect tables. Every request
 * the walker accepts must lie inside guest RAM, and it must never crash. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/guest_mem.h"
#include "vhost/vring.h"

#define RAM (1u << 20)
#define UVA 0x7f0000000000ull
#define AREA 0x1000
#define AREA_LEN 0x8000

static struct guest_mem mem;
static uint8_t *ram;

static int in_ram(const void *p, size_t len)
{
	const uint8_t *b = p;

	return b >= mem.r[0].host && len <= RAM && b - mem.r[0].host <= (ptrdiff_t)(RAM - len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vring vr;
	struct vring_req req;
	uint64_t state;
	uint16_t num;
	char err[128];

	if (!ram) {
		int fd = memfd_create("fuzz-ram", MFD_CLOEXEC);

		if (fd < 0 || ftruncate(fd, RAM) < 0 || guest_mem_add(&mem, fd, 0, RAM, UVA, 0, err, sizeof(err)) < 0)
			abort();
		ram = mem.r[0].host;
	}
	if (size < 2)
		return 0;
	num = (uint16_t)(1u << (data[0] % 9)); /* 1 .. 256 */
	memset(ram + AREA, 0, AREA_LEN);
	memcpy(ram + AREA, data + 2, size - 2 < AREA_LEN ? size - 2 : AREA_LEN);
	/* desc at 0x1000, avail at 0x2000 + (data[1] & 0xe), used at 0x3000: inside the fuzzed area. */
	if (vring_setup(&vr, &mem, num, UVA + 0x1000, UVA + 0x2000 + (data[1] & 0xe), UVA + 0x3000, data[1] & 1) < 0)
		return 0;
	for (int i = 0; i < 2 * num; i++) {
		int r = vring_pop(&vr, &mem, &req);

		if (r <= 0)
			break;
		for (int k = 0; k < req.nin; k++)
			if (!in_ram(req.in[k].iov_base, req.in[k].iov_len))
				abort();
		for (int k = 0; k < req.nout; k++) {
			if (!in_ram(req.out[k].iov_base, req.out[k].iov_len))
				abort();
			memset(req.out[k].iov_base, 0xab, req.out[k].iov_len);
		}
		vring_push(&vr, req.head, (uint32_t)req.out_len);
		vring_should_notify(&vr);
		vring_unheard(&vr, &state);
	}
	return 0;
}
