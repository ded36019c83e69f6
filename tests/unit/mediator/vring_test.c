/* vring_test.c: guest memory regions and the split virtqueue walker against
 * a memfd "guest RAM": a well-formed request, indirect tables, notification
 * suppression, and every malformed-ring class of docs/design.md (each must
 * mark the queue broken, never crash). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "vhost/guest_mem.h"
#include "vhost/vring.h"

#define RAM (1u << 20)
#define UVA 0x7f0000000000ull /* where the "front-end" has guest RAM */
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define QSZ 16

static int ramfd;
static uint8_t *ram; /* the driver's view */
static struct guest_mem mem;

static void set_desc(uint64_t table, int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { addr, len, flags, next };

	memcpy(ram + table + 16 * i, &d, 16);
}

static void offer(uint16_t head)
{
	uint16_t idx;

	memcpy(&idx, ram + AVAIL + 2, 2);
	memcpy(ram + AVAIL + 4 + 2 * (idx % QSZ), &head, 2);
	idx++;
	memcpy(ram + AVAIL + 2, &idx, 2);
}

static void reset_ring(struct vring *vr)
{
	memset(ram, 0, 0x10000);
	CHECK(vring_setup(vr, &mem, QSZ, UVA + DESC, UVA + AVAIL, UVA + USED, 1) == 0, "setup: %s", vr->why);
}

/* Offer chain `head` on a fresh ring and expect it to break with `why` in the reason. */
static void expect_broken(struct vring *vr, uint16_t head, const char *why)
{
	struct vring_req req;

	offer(head);
	CHECK(vring_pop(vr, &mem, &req) == -1, "'%s' was accepted", why);
	CHECK(vr->broken && strstr(vr->why, why), "reason '%s', expected '%s'", vr->why, why);
	CHECK(vring_pop(vr, &mem, &req) == -1, "a broken ring stays broken");
}

static void test_guest_mem(void)
{
	struct guest_mem m = { 0 };
	char err[256];

	CHECK(guest_mem_add(&m, ramfd, 0, RAM + 4096, UVA, 0, err, sizeof(err)) < 0, "region larger than its memfd");
	CHECK(strstr(err, "larger than its file"), "%s", err);
	CHECK(guest_mem_add(&m, ramfd, 0, 4096, UVA, RAM, err, sizeof(err)) < 0, "offset past the file");
	CHECK(guest_mem_add(&m, ramfd, UINT64_MAX - 10, 4096, UVA, 0, err, sizeof(err)) < 0, "gpa wraps");
	CHECK(guest_mem_add(&m, ramfd, 0, 0, UVA, 0, err, sizeof(err)) < 0, "empty region");
	CHECK(guest_mem_add(&m, -1, 0, 4096, UVA, 0, err, sizeof(err)) < 0, "bad fd");
	CHECK(guest_mem_add(&m, ramfd, 0, 0x8000, UVA, 0, err, sizeof(err)) == 0, "region 1: %s", err);
	CHECK(guest_mem_add(&m, ramfd, 0x4000, 0x1000, UVA + 0x100000, 0x1000, err, sizeof(err)) < 0, "overlap");
	CHECK(guest_mem_add(&m, ramfd, 0x100000, 0x2000, UVA + 0x100000, 0x3001, err, sizeof(err)) == 0,
	      "unaligned mmap offset: %s", err);
	ram[0x3001] = 0x5a;
	CHECK(guest_mem_gpa(&m, 0x100000, 1) && *(uint8_t *)guest_mem_gpa(&m, 0x100000, 1) == 0x5a,
	      "unaligned offset maps the right bytes");
	CHECK(guest_mem_gpa(&m, 0x7fff, 1) != NULL, "last byte");
	CHECK(guest_mem_gpa(&m, 0x7fff, 2) == NULL, "crossing the end");
	CHECK(guest_mem_gpa(&m, 0x8000, 1) == NULL, "just past the end");
	CHECK(guest_mem_gpa(&m, 0x10, 0) == NULL, "zero length");
	CHECK(guest_mem_gpa(&m, 0x10, UINT64_MAX) == NULL, "addr + len wraps");
	CHECK(guest_mem_gpa(&m, UINT64_MAX, 2) == NULL, "wrap at the top");
	CHECK(guest_mem_gpa(&m, 0x7000, 0x2000) == NULL, "straddling a gap");
	CHECK(guest_mem_uva(&m, UVA + 0x10, 4) == m.r[0].host + 0x10, "uva translation");
	for (int i = 0; i < 8; i++)
		guest_mem_add(&m, ramfd, 0x200000ull * (i + 2), 0x1000, UVA + 0x200000ull * (i + 2), 0, err, sizeof(err));
	CHECK(m.n == GUEST_MEM_MAX_REGIONS, "at most %d regions", GUEST_MEM_MAX_REGIONS);
	CHECK(strstr(err, "more than"), "too many regions refused: %s", err);
	guest_mem_clear(&m);
	CHECK(m.n == 0, "cleared");
}

/* Malformed rings (docs/design.md): each marks the ring broken with the reason. */
static void test_malformed(void)
{
	struct vring vr;
	struct vring_req req;

	reset_ring(&vr);
	memcpy(ram + AVAIL + 2, &(uint16_t){ QSZ + 1 }, 2);
	CHECK(vring_pop(&vr, &mem, &req) == -1 && strstr(vr.why, "avail index jumped"), "avail jump: %s", vr.why);
	reset_ring(&vr);
	expect_broken(&vr, QSZ, "past the queue");
	reset_ring(&vr);
	set_desc(DESC, 0, 0x10000, 8, VRING_DESC_F_NEXT, QSZ + 3);
	expect_broken(&vr, 0, "next 19 is past the queue");
	reset_ring(&vr);
	set_desc(DESC, 0, 0x10000, 8, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, 0x10000, 8, VRING_DESC_F_NEXT, 0);
	expect_broken(&vr, 0, "loops");
	reset_ring(&vr);
	set_desc(DESC, 0, 0x10000, 0, 0, 0);
	expect_broken(&vr, 0, "zero-length");
	reset_ring(&vr);
	set_desc(DESC, 0, RAM + 0x1000, 8, 0, 0);
	expect_broken(&vr, 0, "outside guest memory");
	reset_ring(&vr);
	set_desc(DESC, 0, RAM - 4, 8, 0, 0);
	expect_broken(&vr, 0, "outside guest memory");
	reset_ring(&vr);
	set_desc(DESC, 0, UINT64_MAX - 2, 8, 0, 0);
	expect_broken(&vr, 0, "outside guest memory");
	reset_ring(&vr);
	set_desc(DESC, 0, 0x10000, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, 0x11000, 8, 0, 0);
	expect_broken(&vr, 0, "readable buffer after a writable");
	reset_ring(&vr);
	set_desc(DESC, 0, 0x20000, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	expect_broken(&vr, 0, "indirect descriptor with NEXT");
	reset_ring(&vr);
	set_desc(0x20000, 0, 0x20000, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(DESC, 0, 0x20000, 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken(&vr, 0, "nested indirect");
	reset_ring(&vr);
	set_desc(DESC, 0, 0x20000, 20, VRING_DESC_F_INDIRECT, 0);
	expect_broken(&vr, 0, "not a whole number");
	reset_ring(&vr);
	set_desc(DESC, 0, RAM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(&vr, 0, "indirect table");
	reset_ring(&vr);
	set_desc(0x20000, 0, 0x10000, 8, VRING_DESC_F_NEXT, 1);
	set_desc(0x20000, 1, 0x10000, 8, VRING_DESC_F_NEXT, 0);
	set_desc(DESC, 0, 0x20000, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(&vr, 0, "indirect chain 0 loops");
	reset_ring(&vr);
	set_desc(0x20000, 0, 0x10000, 8, VRING_DESC_F_NEXT, 2);
	set_desc(DESC, 0, 0x20000, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(&vr, 0, "past the table");
	reset_ring(&vr);
	for (int i = 0; i < 70; i++)
		set_desc(0x20000, i, 0x10000, 8, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	set_desc(0x20000, 69, 0x10000, 8, 0, 0);
	set_desc(DESC, 0, 0x20000, 70 * 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken(&vr, 0, "more than 64 readable");
}

int main(void)
{
	struct vring vr;
	struct vring_req req;
	char err[256];

	ramfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (ramfd < 0 || ftruncate(ramfd, RAM) < 0)
		return 1;
	ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, ramfd, 0);
	if (ram == MAP_FAILED)
		return 1;
	test_guest_mem();
	CHECK(guest_mem_add(&mem, ramfd, 0, RAM, UVA, 0, err, sizeof(err)) == 0, "guest RAM: %s", err);

	/* set-up checks */
	CHECK(vring_setup(&vr, &mem, 12, UVA + DESC, UVA + AVAIL, UVA + USED, 0) < 0, "size not a power of 2");
	CHECK(vring_setup(&vr, &mem, QSZ, UVA + DESC + 8, UVA + AVAIL, UVA + USED, 0) < 0, "misaligned table");
	CHECK(vring_setup(&vr, &mem, QSZ, UVA + RAM - 16, UVA + AVAIL, UVA + USED, 0) < 0, "table past RAM");
	CHECK(vring_setup(&vr, &mem, QSZ, 0x1000, UVA + AVAIL, UVA + USED, 0) < 0, "not a front-end address");

	/* a well-formed request: 2 readable + 1 writable */
	reset_ring(&vr);
	CHECK(vring_pop(&vr, &mem, &req) == 0, "nothing pending");
	set_desc(DESC, 3, 0x10000, 24, VRING_DESC_F_NEXT, 5);
	set_desc(DESC, 5, 0x11000, 100, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, 0x12000, 24, VRING_DESC_F_WRITE, 0);
	memcpy(ram + 0x10000, "hello", 5);
	offer(3);
	CHECK(vring_pop(&vr, &mem, &req) == 1, "pop: %s", vr.why);
	vring_unpop(&vr);
	memset(&req, 0, sizeof(req));
	CHECK(vring_pop(&vr, &mem, &req) == 1 && req.head == 3, "a request put back is taken again: %s", vr.why);
	CHECK(req.head == 3 && req.nin == 2 && req.nout == 1, "head %u, %d in, %d out", req.head, req.nin, req.nout);
	CHECK(req.in_len == 124 && req.out_len == 24, "lengths %llu/%llu", (unsigned long long)req.in_len,
	      (unsigned long long)req.out_len);
	CHECK(!memcmp(req.in[0].iov_base, "hello", 5), "the device sees the driver's bytes");
	memcpy(req.out[0].iov_base, "ok", 2);
	CHECK(!memcmp(ram + 0x12000, "ok", 2), "the driver sees the device's bytes");
	vring_push(&vr, req.head, 24);
	uint16_t used_idx;
	uint32_t elem[2];

	memcpy(&used_idx, ram + USED + 2, 2);
	memcpy(elem, ram + USED + 4, 8);
	CHECK(used_idx == 1 && elem[0] == 3 && elem[1] == 24, "used ring: idx %u id %u len %u", used_idx, elem[0],
	      elem[1]);
	CHECK(vring_pop(&vr, &mem, &req) == 0, "nothing more");

	/* event index: the driver asks for a notification at used index 1, then at 5 */
	CHECK(vring_should_notify(&vr), "first notification");
	uint16_t used_event = 1;

	memcpy(ram + AVAIL + 4 + 2 * QSZ, &used_event, 2);
	offer(3);
	CHECK(vring_pop(&vr, &mem, &req) == 1, "second request");
	vring_push(&vr, req.head, 0);
	used_event = 5;
	memcpy(ram + AVAIL + 4 + 2 * QSZ, &used_event, 2);
	CHECK(!vring_should_notify(&vr), "used_event 5 not reached at 2");

	/* a driver waiting unheard: it asked of an entry already used (used_event behind used_idx, within a ring) */
	uint64_t state = 0, state2 = 0;

	CHECK(!vring_unheard(&vr, &state), "used_event 5 ahead of used index 2: it waits for what is not done yet");
	used_event = 1;
	memcpy(ram + AVAIL + 4 + 2 * QSZ, &used_event, 2);
	CHECK(vring_unheard(&vr, &state), "used_event 1 behind used index 2: entry 1 is used, unheard");
	used_event = 2;
	memcpy(ram + AVAIL + 4 + 2 * QSZ, &used_event, 2);
	CHECK(!vring_unheard(&vr, &state2), "used_event 2 at used index 2: caught up");
	used_event = (uint16_t)(2 - QSZ);
	memcpy(ram + AVAIL + 4 + 2 * QSZ, &used_event, 2);
	CHECK(vring_unheard(&vr, &state2) && state2 != state, "a ring behind: unheard, another state");
	used_event = (uint16_t)(1 - QSZ);
	memcpy(ram + AVAIL + 4 + 2 * QSZ, &used_event, 2);
	CHECK(!vring_unheard(&vr, &state2), "more than a ring behind (signals turned off): not waiting");
	vr.event_idx = 0;
	CHECK(!vring_unheard(&vr, &state2), "without the event index nothing can be told");
	vr.event_idx = 1;

	/* indirect */
	reset_ring(&vr);
	set_desc(0x20000, 0, 0x10000, 16, VRING_DESC_F_NEXT, 2);
	set_desc(0x20000, 2, 0x11000, 32, VRING_DESC_F_WRITE, 0);
	set_desc(DESC, 0, 0x20000, 48, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK(vring_pop(&vr, &mem, &req) == 1 && req.nin == 1 && req.nout == 1, "indirect: %s", vr.why);

	test_malformed();

	guest_mem_clear(&mem);
	munmap(ram, RAM);
	close(ramfd);
	return check_done("vring");
}
