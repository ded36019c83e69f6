/* vhost_dev_test.c: the back-end protocol of one vGPU driven by the test
 * front-end (tools/frontend.c, playing QEMU's part): negotiation,
 * memory table, ring set-up, a request served through the device handler with
 * the call eventfd signalled, config reads, REPLY_ACK of refused messages,
 * GET_VRING_BASE, broken framing, and two vGPUs side by side where one's bad
 * ring does not disturb the other. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "frontend.h"
#include "vhost/vhost_dev.h"

#define RAM (1u << 20)
#define RING 0x1000
#define QSZ 16

/* The device for this test: answers "pong" to whatever it reads. */
static uint32_t pong(void *ctx, unsigned qi, struct vring_req *req)
{
	int *served = ctx;

	(void)qi;
	(*served)++;
	if (req->nout == 0 || req->out[0].iov_len < 4)
		return 0;
	memcpy(req->out[0].iov_base, "pong", 4);
	return 4;
}

#include "vdev_fixture.h"

#define SEC 1000000000ull

/* The driver of queue 0 asks to hear of used entry 0 (its used_event, 0 in fresh RAM) and that entry is used: as if
 * the signal just read had been lost on its way. */
static void lost_interrupt(struct vdev *d, struct frontend *fe, int call)
{
	uint64_t v;
	int watched = 0;

	CHECK(vdev_resignal(d, 0, SEC, &watched) == 0 && watched, "a driver waiting unheard is watched, not signalled");
	watched = 0;
	CHECK(vdev_resignal(d, SEC / 2, SEC, &watched) == 0 && watched, "not after half a second");
	/* A driver at work (what its ring shows moves) is not signalled: its clock starts again. */
	__atomic_store_n((uint16_t *)(fe->ram + RING + 0x1000 + 4 + 2 * QSZ), (uint16_t)0xfff5, __ATOMIC_RELEASE);
	CHECK(vdev_resignal(d, SEC + SEC / 4, SEC, &watched) == 0, "its ring moved: the wait starts again");
	CHECK(vdev_resignal(d, 2 * SEC + SEC / 4, SEC, &watched) == 1 && d->resignals == 1,
	      "a second of nothing moving: signalled again (%llu)", (unsigned long long)d->resignals);
	CHECK(read(call, &v, 8) == 8 && v == 1, "the call eventfd got it");
	watched = 0;
	CHECK(vdev_resignal(d, 9 * SEC, SEC, &watched) == 0 && !watched && d->resignals == 1,
	      "once for one state: a driver that does not answer is not signalled forever");
	/* The driver read the entry and asks for the next one: nothing to watch. */
	fe_want_used(fe, RING, QSZ, 2);
	CHECK(vdev_resignal(d, 20 * SEC, SEC, &watched) == 0 && !watched, "a driver that caught up is not watched");
	CHECK(vdev_resignal(d, 30 * SEC, SEC, &watched) == 0 && d->resignals == 1, "nor signalled");
}

int main(void)
{
	int sv[2], sv2[2], kick, call, kick2, call2, served = 0, served2 = 0;
	struct frontend fe, fe2;
	struct vdev d, d2;
	uint8_t config[24] = "virtio-gpu config bytes";
	uint64_t v;
	uint32_t req, used_len;
	uint16_t used_idx;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2) < 0)
		return 1;
	CHECK(fe_init(&fe, sv[0], RAM) == 0 && fe_init(&fe2, sv2[0], RAM) == 0, "front-ends");
	vdev_init(&d, sv[1], 2, 0, config, sizeof(config), pong, &served);
	vdev_init(&d2, sv2[1], 2, 0, config, sizeof(config), pong, &served2);
	bring_up(&d, &fe, 0, &kick, &call);
	bring_up(&d2, &fe2, 0, &kick2, &call2);

	/* a request: "ping" in, "pong" out, the driver notified */
	memcpy(fe.ram + 0x10000, "ping", 4);
	fe_offer(&fe, RING, QSZ, 0, 0x10000, 4, 0x11000, 16, kick);
	CHECK(vdev_process_queue(&d, 0) == 1 && served == 1, "one request served: %s", d.why);
	CHECK(!memcmp(fe.ram + 0x11000, "pong", 4), "the guest sees the reply");
	memcpy(&used_idx, fe.ram + RING + 0x2000 + 2, 2);
	memcpy(&used_len, fe.ram + RING + 0x2000 + 8, 4);
	CHECK(used_idx == 1 && used_len == 4, "used ring idx %u len %u", used_idx, used_len);
	CHECK(read(call, &v, 8) == 8 && v == 1, "call eventfd signalled");
	lost_interrupt(&d, &fe, call);

	/* config space */
	struct vhost_config c = { .offset = 11, .size = 6 };

	fe_send(&fe, VHOST_USER_GET_CONFIG, 0, &c, 12 + 6, NULL, 0);
	CHECK(vdev_handle_msg(&d) == 1 && fe_reply(&fe, &req, &c, sizeof(c)) == 18 && !memcmp(c.data, "config", 6),
	      "GET_CONFIG");

	/* bits never offered are ignored (QEMU 10 passes RING_RESET on), the offered ones kept */
	{
		uint64_t keep = d.features;

		v = keep | (1ull << 40);
		fe_send(&fe, VHOST_USER_SET_FEATURES, VHOST_USER_NEED_REPLY_MASK, &v, 8, NULL, 0);
		CHECK(vdev_handle_msg(&d) == 1 && ack(&fe) == 0 && strstr(d.why, "not offered") && d.features == keep,
		      "unoffered feature bit ignored: %s", d.why);
	}
	/* refused messages are acked as failures, and the vGPU goes on */
	fe_mem_table(&fe, RAM * 2, VHOST_USER_NEED_REPLY_MASK);
	CHECK(vdev_handle_msg(&d) == 1 && ack(&fe) == 1 && strstr(d.why, "larger than its file"),
	      "region larger than its memfd: %s", d.why);
	CHECK(d.mem.n == 1, "the old memory table stays");
	struct vhost_vring_state bad = { 5, 16 };

	fe_send(&fe, VHOST_USER_SET_VRING_NUM, VHOST_USER_NEED_REPLY_MASK, &bad, 8, NULL, 0);
	CHECK(vdev_handle_msg(&d) == 1 && ack(&fe) == 1 && strstr(d.why, "out of range"), "queue 5: %s", d.why);
	fe_send(&fe, 4242, VHOST_USER_NEED_REPLY_MASK, NULL, 0, NULL, 0);
	CHECK(vdev_handle_msg(&d) == 1 && ack(&fe) == 1, "unknown request refused");
	fe_offer(&fe, RING, QSZ, 2, 0x10000, 4, 0x11000, 16, kick);
	CHECK(vdev_process_queue(&d, 0) == 1, "still serving after refused messages");

	/* vGPU 2 breaks its ring (a descriptor outside guest RAM): vGPU 1 is not touched */
	fe_offer(&fe2, RING, QSZ, 0, RAM + 0x1000, 4, 0x11000, 16, kick2);
	CHECK(vdev_process_queue(&d2, 0) == -1 && d2.q[0].vr.broken, "vGPU 2's bad ring is broken: %s", d2.why);
	fe_offer(&fe, RING, QSZ, 4, 0x10000, 4, 0x11000, 16, kick);
	CHECK(vdev_process_queue(&d, 0) == 1 && served == 3, "vGPU 1 still served (%d)", served);

	/* GET_VRING_BASE stops the ring and says where to resume */
	struct vhost_vring_state st = { 0, 0 };

	fe_send(&fe, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0);
	CHECK(vdev_handle_msg(&d) == 1 && fe_reply(&fe, &req, &st, sizeof(st)) == 8 && st.num == 3, "resume at 3 (%u)",
	      st.num);
	CHECK(!d.q[0].started, "ring stopped");

	/* broken framing: a payload shorter than its header claims, then the front-end goes away */
	uint32_t hdr[3] = { VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 8 };

	CHECK(write(fe.sock, hdr, 12) == 12 && write(fe.sock, "abc", 3) == 3, "write");
	shutdown(fe.sock, SHUT_WR);
	CHECK(vdev_handle_msg(&d) == -1 && strstr(d.why, "shorter"), "short payload drops the connection: %s", d.why);
	fe_send(&fe2, VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0);
	CHECK(vdev_handle_msg(&d2) == 1 && fe_reply(&fe2, &req, &v, 8) == 8 && v == 2, "vGPU 2's connection unaffected");

	vdev_free(&d);
	vdev_free(&d2);
	fe_free(&fe);
	fe_free(&fe2);
	close(kick);
	close(call);
	close(kick2);
	close(call2);
	return check_done("vhost_dev");
}
