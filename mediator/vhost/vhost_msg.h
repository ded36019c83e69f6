/* vhost_msg.h: vhost-user front-end messages (QEMU docs/interop/vhost-user.rst)
 * as the mediator receives them: a 12-byte header, a payload whose size each
 * request fixes, and file descriptors passed with SCM_RIGHTS. Reading and
 * validation are separate so the validator can be fuzzed without a socket. */
#ifndef VGPU_VHOST_MSG_H
#define VGPU_VHOST_MSG_H

#include <stddef.h>
#include <stdint.h>

enum vhost_req {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
};

#define VHOST_USER_VERSION 0x1
#define VHOST_USER_VERSION_MASK 0x3
#define VHOST_USER_REPLY_MASK 0x4
#define VHOST_USER_NEED_REPLY_MASK 0x8
#define VHOST_USER_VRING_IDX_MASK 0xff
#define VHOST_USER_VRING_NOFD_MASK 0x100

#define VHOST_MSG_HDR_SIZE 12
#define VHOST_MSG_MAX_FDS 8
#define VHOST_MSG_MAX_REGIONS 8
#define VHOST_MSG_MAX_CONFIG 256
#define VHOST_MSG_MAX_PAYLOAD 4096

struct vhost_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhost_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
};

struct vhost_mem_region {
	uint64_t gpa, size, uva, mmap_offset;
};

struct vhost_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_mem_region regions[VHOST_MSG_MAX_REGIONS];
};

struct vhost_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t data[VHOST_MSG_MAX_CONFIG];
};

struct vhost_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct vhost_vring_state state;
		struct vhost_vring_addr addr;
		struct vhost_mem_table mem;
		struct vhost_config config;
		uint8_t raw[VHOST_MSG_MAX_PAYLOAD];
	} payload;
	int fds[VHOST_MSG_MAX_FDS];
	int nfds;
};

/* One connection's partly received message: what a front-end has sent so far, fds included. */
struct vhost_rx {
	uint8_t buf[VHOST_MSG_HDR_SIZE + VHOST_MSG_MAX_PAYLOAD];
	size_t have;
	int fds[VHOST_MSG_MAX_FDS];
	int nfds;
	int too_many_fds;
};

/* An empty receiver (owning no fds). */
void vhost_rx_init(struct vhost_rx *rx);
/* Drop a partial message, closing the fds it brought. */
void vhost_rx_reset(struct vhost_rx *rx);

/*
 * Take what the socket holds now, without waiting, towards the next message.
 * 1 a whole message is in m (its fds now belong to m), 2 the message is not
 * complete yet (call again when the socket is readable: a front-end that
 * stalls mid-message holds up nobody), 0 the front-end closed the connection
 * between messages, -1 a transport or framing error, or the connection closed
 * mid-message (err says which). Fds are closed on error.
 */
int vhost_msg_recv(int sock, struct vhost_rx *rx, struct vhost_msg *m, char *err, size_t errlen);

/* vhost_msg_recv that waits for the whole message (for tests and fuzzers): 1, 0 or -1 as above. */
int vhost_msg_read(int sock, struct vhost_msg *m, char *err, size_t errlen);

/*
 * Check a message against the protocol before anything acts on it: version,
 * the payload size each request fixes, the number of fds it carries, queue
 * indices below nqueues, region counts and config sizes. Unknown requests are
 * refused. 0, or -1 with the reason in err.
 */
int vhost_msg_validate(const struct vhost_msg *m, unsigned nqueues, char *err, size_t errlen);

/* Close the fds a message carries. */
void vhost_msg_close_fds(struct vhost_msg *m);

/* The request's name, for messages ("unknown" for others). */
const char *vhost_req_name(uint32_t request);

/* One line saying what a validated message asks (name, queue, numbers, fds), for --trace-vhost. */
void vhost_msg_describe(const struct vhost_msg *m, char *buf, size_t len);

#endif
