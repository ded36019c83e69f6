/* vtest_dev.c: the vtest protocol of one client, checked and carried out as
 * virtio-gpu commands on the client's vGPU (see vtest_dev.h). */
#define _GNU_SOURCE
#include "device/vtest_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io_full.h"
#include "render/renderer.h"
#include "render/shared_mem.h"
#include "device/virtio_gpu.h"

/* Wire facts (virglrenderer's vtest_protocol.h): header dwords, and the payload sizes in dwords. */
#define HDR_BYTES 8
#define RES_CREATE_DW 10
#define RES_CREATE2_DW 11
#define TRANSFER2_DW 10
#define BUSY_WAIT_FLAG_WAIT 1
#define CAPS_V1_REPLY 1 /* the reply "command" of GET_CAPS ... */
#define CAPS_V2_REPLY 2 /* ... and of GET_CAPS2 */
#define CTX 1           /* the guest context ID of a client's one context */

/* Bind flags of a resource the client shows (virgl_hw.h): Mesa's vtest winsys gives such a resource a display
 * target of its own and fills it with a TRANSFER_GET2 on every flush of the front buffer (a SwapBuffers). */
#define VIRGL_BIND_DISPLAY_TARGET (1u << 7)
#define VIRGL_BIND_SCANOUT (1u << 18)

struct vtest_shm {
	void *map;
	size_t len;
	int shown; /* created with a display-target or scanout bind: a read-back of it is a frame shown */
};

struct msg {
	uint32_t len, cmd;  /* the header */
	const uint32_t *dw; /* the payload (read in dwords; CREATE_RENDERER's is bytes) */
	size_t bytes;       /* payload bytes taken */
};

static int drop(struct vtest_dev *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int drop(struct vtest_dev *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The client's shared memory: addresses are the resource ID in the high half and the offset in the low. */
static void *shm_at(void *ctx, uint64_t addr, uint64_t len)
{
	struct vtest_dev *t = ctx;
	const struct vtest_shm *s = idmap_get(&t->shm, (uint32_t)(addr >> 32));
	uint64_t off = addr & 0xffffffffu;

	if (!s || !len || off > s->len || len > s->len - off)
		return NULL;
	return (uint8_t *)s->map + off;
}

void vtest_init(struct vtest_dev *t, int fd, struct gpu_device *g)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->g = g;
	idmap_init(&t->shm);
	g->mem_at = shm_at;
	g->mem_ctx = t;
}

void vtest_free(struct vtest_dev *t)
{
	size_t pos = 0;
	struct vtest_shm *s;

	/* The renderer lets go of every backing first; the memory goes after. */
	gpu_device_free(t->g);
	while ((s = idmap_next(&t->shm, &pos, NULL))) {
		shmem_remove(s->map);
		munmap(s->map, s->len);
		free(s);
	}
	idmap_free(&t->shm);
	free(t->in);
	t->in = NULL;
	t->off = t->len = t->cap = 0;
	t->shm_bytes = 0;
}

/* ---- replies ---- */

static int send_all(struct vtest_dev *t, const void *buf, size_t len)
{
	if (t->fd < 0)
		return 0; /* the fuzzer's client reads nothing */
	if (io_send_full(t->fd, buf, len) < 0)
		return drop(t, "reply of %zu bytes not taken: %s", len, strerror(errno));
	return 0;
}

static int reply(struct vtest_dev *t, uint32_t len, uint32_t cmd, const void *data, size_t bytes)
{
	uint32_t h[2] = { len, cmd };

	return send_all(t, h, sizeof(h)) < 0 || (bytes && send_all(t, data, bytes) < 0) ? -1 : 0;
}

static int send_fd(struct vtest_dev *t, int fd)
{
	char c = 0, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t w;

	if (t->fd < 0)
		return 0;
	memset(ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		w = sendmsg(t->fd, &m, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	return w == 1 ? 0 : drop(t, "the resource's memory could not be sent: %s", w < 0 ? strerror(errno) : "short");
}

/* ---- the vGPU ---- */

/* Carry out one virtio-gpu command (cmd of len bytes, then extra) with room for a reply of out_len bytes.
 * 0 when the vGPU took it, else -1 with its reason. */
static int gpu(struct vtest_dev *t, void *cmd, size_t len, const void *extra, size_t extra_len, void *out,
	       size_t out_len)
{
	struct virtio_gpu_ctrl_hdr *h = cmd, resp = { 0 };
	struct vring_req req = { .nin = 1, .nout = 1 };
	uint32_t type;

	req.in[0] = (struct iovec){ cmd, len };
	if (extra_len)
		req.in[req.nin++] = (struct iovec){ (void *)extra, extra_len };
	req.out[0] = out ? (struct iovec){ out, out_len } : (struct iovec){ &resp, sizeof(resp) };
	req.in_len = len + extra_len;
	req.out_len = req.out[0].iov_len;
	gpu_device_handle(t->g, GPU_CTRLQ, &req);
	memcpy(&type, (uint8_t *)req.out[0].iov_base + offsetof(struct virtio_gpu_ctrl_hdr, type), sizeof(type));
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC)
		return drop(t, "command 0x%x refused: %s", h->type, t->g->st.last_error);
	return 0;
}

/* The client's context, made on its first use (as virglrenderer's server does), named after the client. */
static int need_ctx(struct vtest_dev *t)
{
	struct virtio_gpu_ctx_create c = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = CTX } };

	if (t->ctx)
		return 0;
	c.nlen = (uint32_t)strlen(t->name);
	memcpy(c.debug_name, t->name, c.nlen);
	if (gpu(t, &c, sizeof(c), NULL, 0, NULL, 0) < 0)
		return -1;
	t->ctx = 1;
	return 0;
}

/* ---- commands ---- */

static int do_create_renderer(struct vtest_dev *t, const struct msg *m)
{
	const char *s = (const char *)m->dw;
	size_t k = 0;

	for (size_t i = 0; i < m->bytes && s[i] && k < sizeof(t->name) - 1; i++)
		t->name[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	t->name[k] = 0;
	t->named = 1;
	return 0;
}

static int do_ping(struct vtest_dev *t, const struct msg *m)
{
	return reply(t, 0, m->cmd, NULL, 0);
}

static int do_version(struct vtest_dev *t, const struct msg *m)
{
	uint32_t v = m->dw[0] < VTEST_VERSION ? m->dw[0] : VTEST_VERSION;

	if (v == 1) /* retired: a version 1 client speaks 0 */
		v = 0;
	t->version = (int)v;
	return reply(t, 1, m->cmd, &v, sizeof(v));
}

/* GET_CAPS (capset 1) and GET_CAPS2 (capset 2), through the vGPU's GET_CAPSET. The reply's length field is the
 * caps' size in bytes plus one (the wire format's own). */
static int do_caps(struct vtest_dev *t, const struct msg *m)
{
	uint32_t id = m->cmd == 9 ? 2 : 1, cid = 0, ver = 0, size = 0;
	struct virtio_gpu_get_capset c = { .hdr = { .type = VIRTIO_GPU_CMD_GET_CAPSET }, .capset_id = id,
					   .capset_version = 1 };
	uint8_t *out;
	int r;

	for (uint32_t i = 0; t->g->rnd && cid != id; i++)
		if (t->g->rnd->ops->capset(t->g->rnd, i, &cid, &ver, &size) < 0)
			break;
	if (cid != id || !size || size > (1u << 20))
		return drop(t, "the renderer has no capset %u", id);
	out = calloc(1, sizeof(struct virtio_gpu_ctrl_hdr) + size);
	if (!out)
		return drop(t, "no memory for capset %u", id);
	r = gpu(t, &c, sizeof(c), NULL, 0, out, sizeof(struct virtio_gpu_ctrl_hdr) + size);
	if (r == 0)
		r = reply(t, size + 1, id == 2 ? CAPS_V2_REPLY : CAPS_V1_REPLY, out + sizeof(struct virtio_gpu_ctrl_hdr),
			  size);
	free(out);
	return r;
}

/* RESOURCE_CREATE (no memory) and RESOURCE_CREATE2 (data_size bytes of shared memory, sent as a memfd). */
static int do_create(struct vtest_dev *t, const struct msg *m)
{
	const uint32_t *a = m->dw;
	uint32_t id = a[0], size = m->cmd == 12 ? a[10] : 0;
	struct virtio_gpu_resource_create_3d c = {
		.hdr = { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D }, .resource_id = id, .target = a[1], .format = a[2],
		/* Mesa's vtest client sends array size 0 for buffers, which the vGPU (like a guest's) takes as 1. */
		.bind = a[3], .width = a[4], .height = a[5], .depth = a[6], .array_size = a[7] ? a[7] : 1,
		.last_level = a[8],
		.nr_samples = a[9],
	};
	struct virtio_gpu_ctx_resource at = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, .ctx_id = CTX },
					      .resource_id = id };
	struct {
		struct virtio_gpu_resource_attach_backing h;
		struct virtio_gpu_mem_entry e;
	} ab = { { .hdr = { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, .resource_id = id, .nr_entries = 1 },
		 { .addr = (uint64_t)id << 32, .length = size } };
	struct vtest_shm *s;
	int fd;

	if (size > VTEST_MAX_RES_BYTES || t->shm_bytes + size > VTEST_MAX_SHM_BYTES)
		return drop(t, "resource %u asks for %u bytes of shared memory; the client holds %llu of %llu", id, size,
			    (unsigned long long)t->shm_bytes, (unsigned long long)VTEST_MAX_SHM_BYTES);
	if (need_ctx(t) < 0 || gpu(t, &c, sizeof(c), NULL, 0, NULL, 0) < 0 || gpu(t, &at, sizeof(at), NULL, 0, NULL, 0) < 0)
		return -1;
	if (!size)
		return 0; /* a multisampled resource, or protocol 0: no memory */
	s = calloc(1, sizeof(*s));
	/* Sealed at its size: the client gets the descriptor, and memory it shrank under the mediator's mapping
	 * would fault the whole process (SIGBUS) on the next access. */
	fd = memfd_create("vgpu-vtest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (!s || fd < 0 || ftruncate(fd, size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
	    (s->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		int e = errno;

		free(s);
		if (fd >= 0)
			close(fd);
		return drop(t, "no shared memory of %u bytes for resource %u: %s", size, id, strerror(e));
	}
	s->len = size;
	shmem_add(s->map, size, fd, 0); /* a render worker maps it too */
	s->shown = (c.bind & (VIRGL_BIND_DISPLAY_TARGET | VIRGL_BIND_SCANOUT)) != 0;
	if (idmap_put(&t->shm, id, s) < 0) {
		shmem_remove(s->map);
		munmap(s->map, s->len);
		free(s);
		close(fd);
		return drop(t, "no memory for the table of resource %u", id);
	}
	t->shm_bytes += size;
	if (gpu(t, &ab, sizeof(ab), NULL, 0, NULL, 0) < 0 || send_fd(t, fd) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int do_unref(struct vtest_dev *t, const struct msg *m)
{
	struct virtio_gpu_resource_unref c = { .hdr = { .type = VIRTIO_GPU_CMD_RESOURCE_UNREF },
					       .resource_id = m->dw[0] };
	struct vtest_shm *s;

	if (gpu(t, &c, sizeof(c), NULL, 0, NULL, 0) < 0)
		return -1;
	/* The renderer let go of the backing with the resource: its memory goes now. */
	if ((s = idmap_del(&t->shm, m->dw[0]))) {
		shmem_remove(s->map);
		munmap(s->map, s->len);
		t->shm_bytes -= s->len;
		free(s);
	}
	return 0;
}

/* TRANSFER_GET2 / TRANSFER_PUT2: between the resource and its shared memory at offset. */
static int do_transfer2(struct vtest_dev *t, const struct msg *m)
{
	const uint32_t *a = m->dw;
	struct virtio_gpu_transfer_host_3d c = {
		.hdr = { .type = m->cmd == 14 ? VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D : VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
			 .ctx_id = CTX },
		.box = { a[2], a[3], a[4], a[5], a[6], a[7] },
		.offset = a[9],
		.resource_id = a[0],
		.level = a[1],
	};

	const struct vtest_shm *s;
	unsigned before = t->g->npending;

	if (need_ctx(t) < 0 || gpu(t, &c, sizeof(c), NULL, 0, NULL, 0) < 0)
		return -1;
	if (t->g->npending > before) /* parked behind a fence: the client waits for it (vtest_dev.h) */
		t->held = 1;
	/* The client's frames, counted as a guest's flushes are: what its scheduling (frames, frame-rate targets) and
	 * the per-frame stage times go by. */
	if (m->cmd == 13 && (s = idmap_get(&t->shm, c.resource_id)) && s->shown)
		t->g->st.flushes++;
	return 0;
}

static int do_submit(struct vtest_dev *t, const struct msg *m)
{
	struct virtio_gpu_cmd_submit c = { .hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .flags = VIRTIO_GPU_FLAG_FENCE,
						    .fence_id = ++t->fence, .ctx_id = CTX },
					   .size = (uint32_t)m->bytes };

	/* Fenced, so the client is busy until the renderer has run it. */
	return need_ctx(t) < 0 ? -1 : gpu(t, &c, sizeof(c), m->dw, m->bytes, NULL, 0);
}

static int do_busy_wait(struct vtest_dev *t, const struct msg *m)
{
	uint32_t busy;

	/* Handle 0 before any context is the probe a client sends after PING_PROTOCOL_VERSION: not busy. */
	if (!t->ctx && m->dw[0] == 0)
		return reply(t, 1, m->cmd, &(uint32_t){ 0 }, 4);
	busy = t->g->npending != 0;
	if (busy && (m->dw[1] & BUSY_WAIT_FLAG_WAIT)) {
		t->owe_busy = 1; /* answered from vtest_fences_done */
		return 0;
	}
	return reply(t, 1, m->cmd, &busy, sizeof(busy));
}

/* ---- messages ---- */

enum pay { PAY_EXACT, PAY_BYTES, PAY_DWORDS, PAY_AT_LEAST, PAY_REFUSED };

/* The commands served, with how their payload is sized: exact dwords; len bytes (1..VTEST_MAX_NAME); len dwords
 * (up to GPU_MAX_SUBMIT bytes); at least dw dwords of which dw are read (TRANSFER_PUT2's length also counts data
 * that is in shared memory, not in the message); refused whatever it holds. */
#define VTEST_CMD_LIST(X)                                                           \
	X(1, "get_caps", PAY_EXACT, 0, 0, do_caps)                                  \
	X(2, "resource_create", PAY_EXACT, RES_CREATE_DW, 0, do_create)             \
	X(3, "resource_unref", PAY_EXACT, 1, 0, do_unref)                           \
	X(4, "transfer_get", PAY_REFUSED, 0, 0, NULL)                               \
	X(5, "transfer_put", PAY_REFUSED, 0, 0, NULL)                               \
	X(6, "submit_cmd", PAY_DWORDS, 0, 0, do_submit)                             \
	X(7, "resource_busy_wait", PAY_EXACT, 2, 0, do_busy_wait)                   \
	X(8, "create_renderer", PAY_BYTES, 0, 0, do_create_renderer)                \
	X(9, "get_caps2", PAY_EXACT, 0, 0, do_caps)                                 \
	X(10, "ping_protocol_version", PAY_EXACT, 0, 0, do_ping)                    \
	X(11, "protocol_version", PAY_EXACT, 1, 0, do_version)                      \
	X(12, "resource_create2", PAY_EXACT, RES_CREATE2_DW, 2, do_create)          \
	X(13, "transfer_get2", PAY_EXACT, TRANSFER2_DW, 2, do_transfer2)            \
	X(14, "transfer_put2", PAY_AT_LEAST, TRANSFER2_DW, 2, do_transfer2)

struct cmd_def {
	uint32_t id;
	const char *name;
	enum pay pay;
	uint32_t dw;     /* payload dwords (PAY_EXACT, PAY_AT_LEAST) */
	int min_version; /* the protocol version the command needs */
	int (*serve)(struct vtest_dev *t, const struct msg *m);
};

#define VTEST_CMD_DEF(id, name, pay, dw, ver, fn) { id, name, pay, dw, ver, fn },
static const struct cmd_def cmds[] = { VTEST_CMD_LIST(VTEST_CMD_DEF) };
#undef VTEST_CMD_DEF

static const struct cmd_def *cmd_find(uint32_t id)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].id == id)
			return &cmds[i];
	return NULL;
}

static int bad(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The message at the head of the buffer: 1 with *m (and *d) filled when it is whole, 0 when more bytes are
 * needed (*need: how many in all), -1 when it breaks the protocol (why).
 */
static int peek(const struct vtest_dev *t, struct msg *m, const struct cmd_def **d, size_t *need, char *why,
		size_t wl)
{
	size_t have = t->len - t->off;
	uint32_t h[2];

	*need = HDR_BYTES;
	if (have < HDR_BYTES)
		return 0;
	memcpy(h, t->in + t->off, sizeof(h));
	m->len = h[0];
	m->cmd = h[1];
	if (!(*d = cmd_find(m->cmd)))
		return bad(why, wl, "unknown command %u (length %u)", m->cmd, m->len);
	if (!t->named && m->cmd != 8)
		return bad(why, wl, "%s before create_renderer", (*d)->name);
	if (t->named && m->cmd == 8)
		return bad(why, wl, "a second create_renderer");
	switch ((*d)->pay) {
	case PAY_EXACT:
		if (m->len != (*d)->dw)
			return bad(why, wl, "%s of %u dwords, takes %u", (*d)->name, m->len, (*d)->dw);
		m->bytes = (size_t)m->len * 4;
		break;
	case PAY_AT_LEAST:
		if (m->len < (*d)->dw)
			return bad(why, wl, "%s of %u dwords, takes at least %u", (*d)->name, m->len, (*d)->dw);
		m->bytes = (size_t)(*d)->dw * 4;
		break;
	case PAY_BYTES:
		if (m->len < 1 || m->len > VTEST_MAX_NAME)
			return bad(why, wl, "%s of %u bytes (1 to %d)", (*d)->name, m->len, VTEST_MAX_NAME);
		m->bytes = m->len;
		break;
	case PAY_DWORDS:
		if (m->len > GPU_MAX_SUBMIT / 4)
			return bad(why, wl, "%s of %u dwords (at most %u)", (*d)->name, m->len, GPU_MAX_SUBMIT / 4);
		m->bytes = (size_t)m->len * 4;
		break;
	case PAY_REFUSED:
		return bad(why, wl, "%s (protocol 0: pixels through the socket) is not served; speak protocol %d",
			   (*d)->name, VTEST_VERSION);
	}
	if (t->version < (*d)->min_version)
		return bad(why, wl, "%s needs protocol %d, the client agreed %d", (*d)->name, (*d)->min_version,
			   t->version);
	*need = HDR_BYTES + m->bytes;
	if (have < *need)
		return 0;
	m->dw = (const uint32_t *)(t->in + t->off + HDR_BYTES);
	return 1;
}

int vtest_has_work(const struct vtest_dev *t)
{
	struct msg m;
	const struct cmd_def *d;
	size_t need;
	char why[8];

	/* A whole message, or a malformed one (serving it drops the client): either way there is work. */
	return !t->owe_busy && !t->held && peek(t, &m, &d, &need, why, sizeof(why)) != 0;
}

int vtest_want_read(const struct vtest_dev *t)
{
	return !t->owe_busy && !t->held && !vtest_has_work(t);
}

/* Room for `more` bytes after what is buffered; what was served goes (the head moves to the front). */
static int make_room(struct vtest_dev *t, size_t more)
{
	uint8_t *p;
	size_t cap;

	if (t->off) {
		memmove(t->in, t->in + t->off, t->len - t->off);
		t->len -= t->off;
		t->off = 0;
	}
	if (t->cap - t->len >= more)
		return 0;
	cap = t->len + more;
	/* Whole dwords, as the payloads are read in place. */
	p = realloc(t->in, (cap + 3) & ~(size_t)3);
	if (!p)
		return drop(t, "no memory for a %zu-byte input buffer", cap);
	t->in = p;
	t->cap = cap;
	return 0;
}

int vtest_read(struct vtest_dev *t)
{
	struct msg m;
	const struct cmd_def *d;
	size_t need, room;
	char why[8];
	ssize_t n;

	if (!vtest_want_read(t))
		return 1;
	/* What the head message still lacks, and up to 64 KiB more: never more than the longest message. */
	peek(t, &m, &d, &need, why, sizeof(why));
	room = need - (t->len - t->off) > 65536 ? need - (t->len - t->off) : 65536;
	if (make_room(t, room) < 0)
		return -1;
	n = recv(t->fd, t->in + t->len, t->cap - t->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n < 0)
		return drop(t, "read: %s", strerror(errno));
	if (n == 0) {
		drop(t, "the client closed the connection");
		return 0;
	}
	t->len += (size_t)n;
	return 1;
}

static int serve_one(struct vtest_dev *t)
{
	struct msg m = { 0 };
	const struct cmd_def *d;
	size_t need;
	int r = peek(t, &m, &d, &need, t->why, sizeof(t->why));

	if (r <= 0)
		return r;
	if ((uintptr_t)m.dw % 4) {
		/* After a name of odd length: move the rest to the (aligned) front so the payload reads as dwords. */
		if (make_room(t, 0) < 0)
			return -1;
		m.dw = (const uint32_t *)(t->in + HDR_BYTES);
	}
	if (d->serve(t, &m) < 0)
		return -1;
	t->off += need;
	if (t->off == t->len)
		t->off = t->len = 0;
	t->messages++;
	return 1;
}

int vtest_serve(struct vtest_dev *t, int budget)
{
	int done = 0;

	while (done < budget && !t->owe_busy && !t->held) {
		int r = serve_one(t);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done++;
	}
	return done;
}

int vtest_fences_done(struct vtest_dev *t)
{
	uint32_t busy = 0;

	if (t->held && !t->g->npending)
		t->held = 0;
	if (!t->owe_busy || t->g->npending)
		return 0;
	t->owe_busy = 0;
	return reply(t, 1, 7, &busy, sizeof(busy));
}

int vtest_feed(struct vtest_dev *t, const uint8_t *data, size_t len)
{
	int total = 0;

	while (len) {
		size_t take = len < 65536 ? len : 65536;

		if (make_room(t, take) < 0)
			return -1;
		memcpy(t->in + t->len, data, take);
		t->len += take;
		data += take;
		len -= take;
		for (;;) {
			int r = vtest_serve(t, 64);

			if (r < 0)
				return -1;
			total += r;
			t->owe_busy = t->held = 0; /* nobody reads the replies: an owed busy-wait is forgotten */
			if (r == 0)
				break;
		}
		if (t->len - t->off > VTEST_IN_MAX)
			return drop(t, "a message longer than any the protocol allows");
	}
	return total;
}
