/* hostile_vm.c: the VM vgpu-hostile plays: its guest memory and rings set up on a back-end, commands sent and
 * answered, raw front-end messages and descriptors, a device reset, whether a resource is still served. */
#define _GNU_SOURCE

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device/virtio_gpu.h"
#include "hostile.h"
#include "util.h"
#include "vhost/vhost_dev.h"

/* ---- connections ---- */

void vm_close(struct vm *v)
{
	if (!v->up)
		return;
	fe_display_stop(&v->disp);
	fe_free(&v->fe);
	for (int q = 0; q < 2; q++) {
		if (v->kick[q] >= 0)
			close(v->kick[q]);
		if (v->call[q] >= 0)
			close(v->call[q]);
	}
	v->up = 0;
}

/* Connect to path and bring the device up the way QEMU does, with virgl when asked. 0 or -1. */
int vm_open(struct vm *v, const char *path, pid_t owner, int virgl)
{
	char why[256];
	uint64_t offered;
	uint32_t req;
	struct timeval tv = { 2, 0 };
	int fd = vb_unix_connect(path, vb_now() + 5.0, owner);

	memset(v, 0, sizeof(*v));
	v->kick[0] = v->kick[1] = v->call[0] = v->call[1] = -1;
	v->disp.fd = -1;
	if (fd < 0)
		return -1;
	/* Nothing a back-end does may block the catalogue: every read gives up after 2 s. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fe_init(&v->fe, fd, RAM) < 0) {
		close(fd);
		return -1;
	}
	v->up = 1;
	if (fe_send(&v->fe, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0) < 0 ||
	    fe_reply(&v->fe, &req, &v->proto, 8) != 8 ||
	    fe_negotiate(&v->fe,
			 (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
				 (1ull << VHOST_USER_F_PROTOCOL_FEATURES) | (virgl ? 1ull << VIRTIO_GPU_F_VIRGL : 0),
			 &offered, why, sizeof(why)) < 0 ||
	    fe_display_start(&v->fe, &v->disp, 640, 480, 1) < 0 ||
	    fe_mem_table(&v->fe, RAM, VHOST_USER_NEED_REPLY_MASK) < 0 ||
	    fe_ack(&v->fe, "SET_MEM_TABLE", why, sizeof(why)) < 0 ||
	    fe_setup_ring(&v->fe, 0, QSZ, RING, &v->kick[0], &v->call[0]) < 0 ||
	    fe_setup_ring(&v->fe, 1, QSZ, CURSOR_RING, &v->kick[1], &v->call[1]) < 0)
		return -1;
	return 0;
}

/* One command (len bytes at IN, out_len writable at OUT); the response type, or 0 when none came in time. */
uint32_t vm_cmd_at(struct vm *v, const void *cmd, uint32_t len, uint32_t out_len)
{
	struct virtio_gpu_ctrl_hdr h;

	if (!v->up)
		return 0;
	memcpy(v->fe.ram + IN, cmd, len);
	memset(v->fe.ram + OUT, 0, 64);
	fe_post(&v->fe, RING, QSZ, v->head, IN, len, OUT, out_len);
	v->head = (uint16_t)((v->head + 2) % QSZ);
	fe_want_used(&v->fe, RING, QSZ, (uint16_t)(v->used + 1));
	if (fe_kick(v->kick[0]) < 0 || fe_wait_used(&v->fe, RING, v->call[0], (uint16_t)(v->used + 1), ANSWER_MS) < 0)
		return 0;
	v->used++;
	memcpy(&h, v->fe.ram + OUT, sizeof(h));
	return h.type;
}

uint32_t vm_cmd(struct vm *v, const void *cmd, uint32_t len)
{
	return vm_cmd_at(v, cmd, len, 64);
}

uint32_t create(struct vm *v, uint32_t id, uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d m = { { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D }, id,
						   VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h };

	return vm_cmd(v, &m, sizeof(m));
}

/* Attach one backing entry (addr, len) to resource id. */
uint32_t attach(struct vm *v, uint32_t id, uint64_t addr, uint32_t len)
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} m = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, id, 1 }, { addr, len, 0 } };

	return vm_cmd(v, &m, sizeof(m));
}

/* Does the vGPU serve? A resource created and unreferenced again. */
int serves(struct vm *v, uint32_t id)
{
	struct virtio_gpu_resource_unref u = { { .type = VIRTIO_GPU_CMD_RESOURCE_UNREF }, id, 0 };

	return create(v, id, 16, 16) == VIRTIO_GPU_RESP_OK_NODATA && vm_cmd(v, &u, sizeof(u)) == VIRTIO_GPU_RESP_OK_NODATA;
}

/* What a driver resetting its device makes QEMU do: stop the rings, RESET_DEVICE when the back-end offered it,
 * the memory table and fresh rings again. 0 when every step was answered. */
int vm_reset(struct vm *v)
{
	char why[128];
	uint16_t at;

	if (!v->up || fe_stop_ring(&v->fe, 0, &at) < 0 || fe_stop_ring(&v->fe, 1, &at) < 0)
		return -1;
	if ((v->proto & (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE)) &&
	    fe_send(&v->fe, VHOST_USER_RESET_DEVICE, 0, NULL, 0, NULL, 0) < 0)
		return -1;
	for (int q = 0; q < 2; q++) {
		close(v->kick[q]);
		close(v->call[q]);
		v->kick[q] = v->call[q] = -1;
	}
	v->head = v->used = 0;
	if (fe_mem_table(&v->fe, RAM, VHOST_USER_NEED_REPLY_MASK) < 0 || fe_ack(&v->fe, "SET_MEM_TABLE", why, sizeof(why)) < 0)
		return -1;
	return fe_setup_ring(&v->fe, 0, QSZ, RING, &v->kick[0], &v->call[0]) < 0 ||
			       fe_setup_ring(&v->fe, 1, QSZ, CURSOR_RING, &v->kick[1], &v->call[1]) < 0
		       ? -1
		       : 0;
}

/* ---- the catalogue ---- */

/* Send raw bytes as a front-end message would go (no validation of ours in the way). */
int raw(struct vm *v, uint32_t req, uint32_t flags, uint32_t size, const void *payload, uint32_t send_len,
	const int *fds, int nfds)
{
	uint8_t buf[12 + 512];
	uint32_t f = flags ? flags : VHOST_USER_VERSION;

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &f, 4);
	memcpy(buf + 8, &size, 4);
	if (send_len > sizeof(buf) - 12)
		send_len = sizeof(buf) - 12;
	if (send_len)
		memcpy(buf + 12, payload, send_len);
	return fe_send_fds(v->fe.sock, buf, 12 + send_len, fds, nfds);
}

/* Publish descriptor chain d[0..n) at the ring's head slot and kick. */
void post_descs(struct vm *v, const struct vring_desc *d, int n, uint16_t head)
{
	uint16_t idx;

	for (int i = 0; i < n; i++)
		memcpy(v->fe.ram + RING + 16 * ((head + i) % QSZ), &d[i], 16);
	memcpy(&idx, v->fe.ram + RING + 0x1000 + 2, 2);
	memcpy(v->fe.ram + RING + 0x1000 + 4 + 2 * (idx % QSZ), &head, 2);
	idx++;
	__atomic_store_n((uint16_t *)(v->fe.ram + RING + 0x1000 + 2), idx, __ATOMIC_RELEASE);
	fe_kick(v->kick[0]);
}

void put_cmd(struct vm *v, uint32_t type)
{
	struct virtio_gpu_ctrl_hdr h = { .type = type };

	memcpy(v->fe.ram + IN, &h, sizeof(h));
}

/* Rings and descriptors: a valid command behind a malformed chain. */
void ring_chain(struct vm *v, struct vring_desc first, int with_out)
{
	put_cmd(v, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	if (with_out)
		post_descs(v, (struct vring_desc[]){ first, { OUT, 64, VRING_DESC_F_WRITE, 0 } }, 2, v->head);
	else
		post_descs(v, &first, 1, v->head);
}

uint16_t next_slot(struct vm *v)
{
	return (uint16_t)((v->head + 1) % QSZ);
}
