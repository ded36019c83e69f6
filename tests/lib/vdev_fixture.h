/* vdev_fixture.h: bring one vGPU's vhost-user back-end up through the test
 * front-end (negotiation, memory table, queue 0 and 1 set up), the way QEMU
 * does, for the tests that drive the mediator without a VM. */
#ifndef VGPUBENCH_VDEV_FIXTURE_H
#define VGPUBENCH_VDEV_FIXTURE_H

#include "check.h"
#include "frontend.h"
#include "vhost/vhost_dev.h"

#ifndef RAM
#define RAM (1u << 20)
#endif
#ifndef RING
#define RING 0x1000
#endif
#ifndef QSZ
#define QSZ 16
#endif

static int ack(struct frontend *fe)
{
	uint32_t req;
	uint64_t v = 99;

	return fe_reply(fe, &req, &v, sizeof(v)) == 8 ? (int)v : -1;
}

/* Negotiate (with the device feature bits `device_features` on top), share RAM, set up queue 0 at RING. */
static void bring_up(struct vdev *d, struct frontend *fe, uint64_t device_features, int *kick, int *call)
{
	uint32_t req;
	uint64_t feats = 0, want;

	fe_send(fe, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0);
	CHECK(vdev_handle_msg(d) == 1, "GET_FEATURES");
	CHECK(fe_reply(fe, &req, &feats, 8) == 8 && req == VHOST_USER_GET_FEATURES, "features reply");
	CHECK(feats & (1ull << VIRTIO_F_VERSION_1), "VERSION_1 offered");
	want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES) |
	       device_features;
	fe_send(fe, VHOST_USER_SET_FEATURES, 0, &want, 8, NULL, 0);
	CHECK(vdev_handle_msg(d) == 1 && d->features == want, "SET_FEATURES");
	fe_send(fe, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0);
	CHECK(vdev_handle_msg(d) == 1 && fe_reply(fe, &req, &feats, 8) == 8, "GET_PROTOCOL_FEATURES");
	want = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	fe_send(fe, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &want, 8, NULL, 0);
	CHECK(vdev_handle_msg(d) == 1 && d->protocol == want, "REPLY_ACK negotiated");
	fe_send(fe, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0);
	CHECK(vdev_handle_msg(d) == 1 && d->owned, "SET_OWNER");
	fe_mem_table(fe, RAM, VHOST_USER_NEED_REPLY_MASK);
	CHECK(vdev_handle_msg(d) == 1 && ack(fe) == 0 && d->mem.n == 1, "SET_MEM_TABLE acked: %s", d->why);
	CHECK(fe_setup_ring(fe, 0, QSZ, RING, kick, call) == 0, "ring messages sent");
	for (int i = 0; i < 6; i++)
		CHECK(vdev_handle_msg(d) == 1, "ring set-up message %d: %s", i, d->why);
	CHECK(d->q[0].started && d->q[0].enabled, "queue 0 started and enabled");
}

#endif
