/* frontend.c: the test front-end (see frontend.h). */
#define _GNU_SOURCE
#include "frontend.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "io_full.h"

#include "vhost/vhost_dev.h"
#include "vhost/vhost_msg.h"
#include "device/virtio_gpu.h"
#include "vhost/vring.h"

int fe_init(struct frontend *fe, int sock, size_t ram_size)
{
	memset(fe, 0, sizeof(*fe));
	fe->sock = sock;
	fe->ram_size = ram_size;
	fe->uva = 0x7f0000000000ull;
	fe->ram_fd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (fe->ram_fd < 0 || ftruncate(fe->ram_fd, (off_t)ram_size) < 0)
		return -1;
	fe->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, fe->ram_fd, 0);
	return fe->ram == MAP_FAILED ? -1 : 0;
}

void fe_free(struct frontend *fe)
{
	if (fe->ram && fe->ram != MAP_FAILED)
		munmap(fe->ram, fe->ram_size);
	if (fe->ram_fd >= 0)
		close(fe->ram_fd);
	if (fe->sock >= 0)
		close(fe->sock);
}

int fe_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	struct iovec iov = { (void *)buf, len };
	union {
		char c[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds < 0 || nfds > 16)
		return -1;
	if (nfds) {
		mh.msg_control = ctl.c;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

int fe_send(struct frontend *fe, uint32_t req, uint32_t flags, const void *payload, uint32_t size, const int *fds,
	    int nfds)
{
	uint8_t buf[VHOST_MSG_HDR_SIZE + VHOST_MSG_MAX_PAYLOAD];

	if (size > VHOST_MSG_MAX_PAYLOAD || nfds > VHOST_MSG_MAX_FDS)
		return -1;
	flags |= VHOST_USER_VERSION;
	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + VHOST_MSG_HDR_SIZE, payload, size);
	return fe_send_fds(fe->sock, buf, VHOST_MSG_HDR_SIZE + size, fds, nfds);
}

int fe_reply(struct frontend *fe, uint32_t *req, void *payload, size_t cap)
{
	uint32_t hdr[3];
	uint8_t skip[VHOST_MSG_MAX_PAYLOAD];

	if (io_read_full(fe->sock, hdr, sizeof(hdr)) < 0 || !(hdr[1] & VHOST_USER_REPLY_MASK) ||
	    hdr[2] > VHOST_MSG_MAX_PAYLOAD)
		return -1;
	*req = hdr[0];
	if (io_read_full(fe->sock, skip, hdr[2]) < 0)
		return -1;
	memcpy(payload, skip, hdr[2] < cap ? hdr[2] : cap);
	return (int)hdr[2];
}

int fe_ack(struct frontend *fe, const char *what, char *why, size_t whylen)
{
	uint32_t req;
	uint64_t v = 1;

	if (fe_reply(fe, &req, &v, sizeof(v)) != 8 || v != 0) {
		snprintf(why, whylen, "%s: no success reply from the back-end", what);
		return -1;
	}
	return 0;
}

int fe_barrier(struct frontend *fe, const char *what, char *why, size_t whylen)
{
	uint32_t req = 0;
	uint64_t v;

	if (fe_send(fe, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0) < 0 || fe_reply(fe, &req, &v, sizeof(v)) != 8 ||
	    req != VHOST_USER_GET_FEATURES) {
		snprintf(why, whylen, "%s: no answer to the GET_FEATURES sent after it", what);
		return -1;
	}
	return 0;
}

int fe_negotiate(struct frontend *fe, uint64_t want, uint64_t *offered, char *why, size_t whylen)
{
	uint32_t req;
	uint64_t proto = 0;

	*offered = 0;
	if (fe_send(fe, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0) < 0 || fe_reply(fe, &req, offered, 8) != 8) {
		snprintf(why, whylen, "GET_FEATURES: no answer");
		return -1;
	}
	if ((*offered & want) != want) {
		snprintf(why, whylen, "the back-end does not offer features 0x%llx",
			 (unsigned long long)(want & ~*offered));
		return -1;
	}
	if (fe_send(fe, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0) < 0 ||
	    fe_reply(fe, &req, &proto, 8) != 8) {
		snprintf(why, whylen, "GET_PROTOCOL_FEATURES: no answer");
		return -1;
	}
	if (!(proto & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK))) {
		snprintf(why, whylen, "the back-end does not offer REPLY_ACK");
		return -1;
	}
	proto = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	if (fe_send(fe, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &proto, 8, NULL, 0) < 0 ||
	    fe_send(fe, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0) < 0 ||
	    fe_send(fe, VHOST_USER_SET_FEATURES, VHOST_USER_NEED_REPLY_MASK, &want, 8, NULL, 0) < 0) {
		snprintf(why, whylen, "negotiation: send failed");
		return -1;
	}
	return fe_ack(fe, "SET_FEATURES", why, whylen);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fe_wait_used(struct frontend *fe, uint64_t base, int call, uint16_t idx, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (fe_used_idx(fe, base) != idx) {
		struct pollfd p = { call, POLLIN, 0 };
		int64_t left = deadline - now_ms();
		uint64_t v;

		if (left <= 0)
			return -1;
		if (poll(&p, 1, left < 10 ? (int)left : 10) > 0 && read(call, &v, 8) != 8)
			return -1; /* the eventfd is non-blocking and was readable: only a broken fd fails */
	}
	return 0;
}

int fe_mem_table(struct frontend *fe, uint64_t region_size, uint32_t flags)
{
	struct vhost_mem_table mt = { .nregions = 1 };

	mt.regions[0] = (struct vhost_mem_region){ 0, region_size, fe->uva, 0 };
	return fe_send(fe, VHOST_USER_SET_MEM_TABLE, flags, &mt, 8 + 32, &fe->ram_fd, 1);
}

/* SET_VRING_NUM/ADDR/BASE (at index `at`), CALL, KICK (fresh eventfds) and ENABLE of queue qi on the ring at
 * gpa base. */
static int ring_start(struct frontend *fe, unsigned qi, uint16_t num, uint64_t base, uint16_t at, int *kick, int *call)
{
	struct vhost_vring_state st = { qi, num };
	struct vhost_vring_addr addr = { qi, 0, fe->uva + base, fe->uva + base + 0x2000, fe->uva + base + 0x1000, 0 };
	uint64_t idx = qi;
	int rc = 0;

	*kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	*call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc |= fe_send(fe, VHOST_USER_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	rc |= fe_send(fe, VHOST_USER_SET_VRING_ADDR, 0, &addr, sizeof(addr), NULL, 0);
	st.num = at;
	rc |= fe_send(fe, VHOST_USER_SET_VRING_BASE, 0, &st, sizeof(st), NULL, 0);
	rc |= fe_send(fe, VHOST_USER_SET_VRING_CALL, 0, &idx, 8, call, 1);
	rc |= fe_send(fe, VHOST_USER_SET_VRING_KICK, 0, &idx, 8, kick, 1);
	st.num = 1;
	rc |= fe_send(fe, VHOST_USER_SET_VRING_ENABLE, 0, &st, sizeof(st), NULL, 0);
	return rc ? -1 : 0;
}

int fe_setup_ring(struct frontend *fe, unsigned qi, uint16_t num, uint64_t base, int *kick, int *call)
{
	memset(fe->ram + base, 0, 0x3000);
	return ring_start(fe, qi, num, base, 0, kick, call);
}

int fe_stop_ring(struct frontend *fe, unsigned qi, uint16_t *at)
{
	struct vhost_vring_state st = { qi, 0 };
	uint32_t req = 0;

	if (fe_send(fe, VHOST_USER_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0) < 0 ||
	    fe_reply(fe, &req, &st, sizeof(st)) != (int)sizeof(st) || req != VHOST_USER_GET_VRING_BASE ||
	    st.index != qi)
		return -1;
	*at = (uint16_t)st.num;
	return 0;
}

int fe_resume_ring(struct frontend *fe, unsigned qi, uint16_t num, uint64_t base, uint16_t at, int *kick, int *call)
{
	return ring_start(fe, qi, num, base, at, kick, call);
}

void fe_post(struct frontend *fe, uint64_t base, uint16_t num, uint16_t head, uint64_t in, uint32_t in_len,
	     uint64_t out, uint32_t out_len)
{
	struct vring_desc d[2] = { { in, in_len, VRING_DESC_F_NEXT, (uint16_t)((head + 1) % num) },
				   { out, out_len, VRING_DESC_F_WRITE, 0 } };
	uint16_t idx;

	memcpy(fe->ram + base + 16 * head, &d[0], 16);
	memcpy(fe->ram + base + 16 * ((head + 1) % num), &d[1], 16);
	memcpy(&idx, fe->ram + base + 0x1000 + 2, 2);
	memcpy(fe->ram + base + 0x1000 + 4 + 2 * (idx % num), &head, 2);
	idx++;
	__atomic_store_n((uint16_t *)(fe->ram + base + 0x1000 + 2), idx, __ATOMIC_RELEASE);
}

uint16_t fe_used_idx(struct frontend *fe, uint64_t base)
{
	return __atomic_load_n((uint16_t *)(fe->ram + base + 0x2000 + 2), __ATOMIC_ACQUIRE);
}

void fe_want_used(struct frontend *fe, uint64_t base, uint16_t num, uint16_t idx)
{
	/* virtio 1.2 §2.7.10: the device notifies when used_event lies in [old, new). */
	__atomic_store_n((uint16_t *)(fe->ram + base + 0x1000 + 4 + 2 * num), (uint16_t)(idx - 1), __ATOMIC_RELEASE);
}

int fe_kick(int kick)
{
	uint64_t one = 1;

	return write(kick, &one, 8) == 8 ? 0 : -1;
}

int fe_display_reply(int fd, uint32_t req, const void *payload, uint32_t size)
{
	uint32_t hdr[3] = { req, VHOST_USER_GPU_MSG_FLAG_REPLY, size };
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)payload, size } };

	return writev(fd, iov, 2) == (ssize_t)(sizeof(hdr) + size) ? 0 : -1;
}

void fe_offer(struct frontend *fe, uint64_t base, uint16_t num, uint16_t head, uint64_t in, uint32_t in_len,
	      uint64_t out, uint32_t out_len, int kick)
{
	fe_post(fe, base, num, head, in, in_len, out, out_len);
	fe_kick(kick);
}

int fe_display_answer(int fd, uint32_t req, uint32_t w, uint32_t h)
{
	if (req == VHOST_USER_GPU_GET_PROTOCOL_FEATURES) {
		uint64_t f = 1ull << VHOST_USER_GPU_PROTOCOL_F_EDID;

		fe_display_reply(fd, req, &f, sizeof(f));
	} else if (req == VHOST_USER_GPU_GET_DISPLAY_INFO) {
		struct virtio_gpu_resp_display_info di = { .hdr.type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO };

		di.pmodes[0] = (struct virtio_gpu_display_one){ { 0, 0, w, h }, 1, 0 };
		fe_display_reply(fd, req, &di, sizeof(di));
	} else if (req == VHOST_USER_GPU_GET_EDID) {
		struct virtio_gpu_resp_edid e = { .hdr.type = VIRTIO_GPU_RESP_ERR_UNSPEC };

		fe_display_reply(fd, req, &e, sizeof(e));
	} else if (req == VHOST_USER_GPU_DMABUF_UPDATE) {
		fe_display_reply(fd, req, NULL, 0);
	} else {
		return 0;
	}
	return 1;
}

static void *display_main(void *arg)
{
	struct fe_display *d = arg;
	uint8_t buf[4096];

	while (!d->stop) {
		struct pollfd p = { d->fd, POLLIN, 0 };
		uint32_t hdr[3], left;

		if (poll(&p, 1, 50) <= 0)
			continue;
		if (io_read_full(d->fd, hdr, sizeof(hdr)) < 0)
			break;
		for (left = hdr[2]; left;) { /* the payload (an update's pixels too) is read; its head noted */
			uint32_t n = left < sizeof(buf) ? left : (uint32_t)sizeof(buf), f[5];
			int first = left == hdr[2];

			if (io_read_full(d->fd, buf, n) < 0)
				goto out;
			left -= n;
			if (!first || n < 12)
				continue;
			memcpy(f, buf, n < 20 ? 12 : 20);
			if (f[0] >= FE_SCANOUTS)
				continue;
			if (hdr[0] == VHOST_USER_GPU_SCANOUT) {
				d->shown_w[f[0]] = f[1];
				d->shown_h[f[0]] = f[2];
			} else if (hdr[0] == VHOST_USER_GPU_UPDATE && n >= 24) {
				uint32_t px;

				memcpy(&px, buf + 20, 4);
				d->last_pixel[f[0]] = px;
				d->updates[f[0]]++;
			}
		}
		fe_display_answer(d->fd, hdr[0], d->w, d->h);
	}
out:
	d->closed = 1;
	return NULL;
}

int fe_display_start(struct frontend *fe, struct fe_display *d, uint32_t w, uint32_t h, int ack)
{
	int dv[2], rc;
	char why[128];

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->w = w;
	d->h = h;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dv) < 0)
		return -1;
	d->fd = dv[0];
	if (pthread_create(&d->th, NULL, display_main, d) != 0) {
		close(dv[0]);
		close(dv[1]);
		d->fd = -1;
		return -1;
	}
	d->up = 1;
	rc = fe_send(fe, VHOST_USER_GPU_SET_SOCKET, ack ? VHOST_USER_NEED_REPLY_MASK : 0, NULL, 0, &dv[1], 1);
	close(dv[1]);
	if (rc < 0 || (ack && fe_ack(fe, "GPU_SET_SOCKET", why, sizeof(why)) < 0))
		return -1;
	return 0;
}

void fe_display_stop(struct fe_display *d)
{
	if (d->up) {
		d->stop = 1;
		pthread_join(d->th, NULL);
		d->up = 0;
	}
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}
