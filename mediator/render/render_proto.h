/* render_proto.h: the protocol between the mediator (the broker) and a render worker, the process that renders for
 * one vGPU (docs/render-workers.md tells it in prose). One SOCK_SEQPACKET connection per worker: each message is
 * a struct rp_hdr and a payload of exactly the size its op says, and carries at most one file descriptor. Bulk data
 * never goes through the socket:
 *   - the ring: a memfd the broker writes command streams and backings' entry tables into (SUBMIT and ATTACH
 *     name where); those bytes are the broker's again once the worker's DONE for that message came;
 *   - the bulk area: a memfd for the payload of a call the broker waits on (a backing's entry table, pixels to
 *     write or read back, capset data, a cursor image); the broker writes it only while no such call is out;
 *   - guest memory: each piece of memory a backing lies in is mapped by the worker from its own descriptor (MAP),
 *     once, and named by its id afterwards.
 * A call the broker waits on gets one REPLY with the same seq. SUBMIT and ATTACH get a DONE (their ring bytes are
 * free again). Any other message the broker does not wait on gets nothing back, unless it failed: then FAILED says
 * which and why, for the counters (the guest was answered already, as QEMU's own virgl device answers these without
 * looking at virglrenderer's result). FENCE comes whenever fences retired. The broker checks every message from a
 * worker (op, size, seq, fence, lengths) as it checks a guest's, and cuts a worker off at the first it cannot
 * trust. */
#ifndef VGPU_RENDER_PROTO_H
#define VGPU_RENDER_PROTO_H

#include <stdint.h>

#include "render/renderer.h"

#define RP_VERSION 3
#define RP_MAX_CAPSETS 4
#define RP_RING_BYTES (16u << 20)   /* the submit ring: twice the longest command stream (GPU_MAX_SUBMIT) */
#define RP_BULK_MIN (1u << 20)      /* the bulk area's first size; it grows to what a call needs */
#define RP_BULK_MAX (1100u << 20)   /* the most one call may move: a 16384x16384 resource's pixels, and a margin */
#define RP_MAX_ENTRIES 16384        /* a backing's pieces (GPU_MAX_BACKING_ENTRIES) */
#define RP_MAX_CAPS_BYTES (1u << 20) /* one capset's data */

/* The messages: name, who sends it (B broker, W worker), the payload struct. */
#define RP_MESSAGES(X)                                                   \
	X(READY, W, struct rp_ready)       /* first: the worker's renderer */ \
	X(MAP, B, struct rp_map)           /* + fd: map a piece of memory */  \
	X(UNMAP, B, struct rp_id)                                            \
	X(RING, B, struct rp_area)         /* + fd: the submit ring */        \
	X(BULK, B, struct rp_area)         /* + fd: the bulk area (again when it grows) */ \
	X(RES_CREATE, B, struct rp_res)    /* FAILED when refused */          \
	X(RES_UNREF, B, struct rp_id)                                        \
	X(ATTACH, B, struct rp_attach)     /* DONE; entries in the ring */     \
	X(DETACH, B, struct rp_id)                                           \
	X(WRITE, B, struct rp_xfer)        /* bulk: REPLY; the backing: FAILED when refused */ \
	X(READ, B, struct rp_xfer)         /* bulk: REPLY; the backing: FAILED when refused */ \
	X(CTX_CREATE, B, struct rp_ctx)    /* FAILED when refused */          \
	X(CTX_DESTROY, B, struct rp_id)                                      \
	X(CTX_RESOURCE, B, struct rp_ctx_res)                                \
	X(SUBMIT, B, struct rp_submit)     /* DONE */                         \
	X(FENCE_AFTER, B, struct rp_fence) /* queue a fence */                \
	X(FILL_CAPS, B, struct rp_caps)    /* REPLY; data in the bulk area */ \
	X(CURSOR, B, struct rp_id)         /* REPLY; 64x64 pixels in the bulk area */ \
	X(REPLY, W, struct rp_reply)                                         \
	X(DONE, W, struct rp_reply)        /* a SUBMIT or ATTACH was taken */ \
	X(FAILED, W, struct rp_failed)     /* a message not waited on failed */ \
	X(FENCE, W, struct rp_fence)       /* every fence up to this one retired */

enum rp_op {
#define RP_ENUM(name, by, type) RP_##name,
	RP_MESSAGES(RP_ENUM)
#undef RP_ENUM
	RP_NOPS
};

struct rp_hdr {
	uint32_t op;  /* enum rp_op */
	uint32_t seq; /* the broker's count of its messages; a REPLY or DONE repeats the one it answers */
	uint32_t len; /* payload bytes: exactly sizeof its op's struct */
	uint32_t pad;
};

struct rp_caps_info {
	uint32_t id, version, size;
};

struct rp_ready {
	uint32_t version; /* RP_VERSION */
	int32_t rc;       /* 0, or the renderer did not start (why says) */
	uint32_t fd_limit; /* the RLIMIT_NOFILE it runs under (1 to RENDER_WORKER_FDS) */
	uint32_t ncaps;
	struct rp_caps_info caps[RP_MAX_CAPSETS];
	char gl_renderer[192]; /* NUL-terminated, as every string here */
	char platform[160];
	char why[160];
};

struct rp_id {
	uint32_t id;
};

struct rp_map {
	uint32_t id;
	uint32_t pad;
	uint64_t file_off, len; /* what of the descriptor's file to map */
};

struct rp_area {
	uint64_t len;
};

struct rp_res {
	uint32_t id;
	struct render_res a;
};

/* ATTACH: n entries (struct rp_entry) at ring_off in the ring. */
struct rp_attach {
	uint32_t id, n;
	uint64_t ring_off;
};

struct rp_entry {
	uint32_t map; /* a MAP's id */
	uint32_t pad;
	uint64_t off, len; /* inside that map */
};

struct rp_xfer {
	uint32_t id;
	uint32_t bulk; /* 1: the data is in the bulk area (len bytes from bulk_off); 0: the resource's backing */
	uint64_t len, bulk_off;
	struct render_xfer x;
};

struct rp_ctx {
	uint32_t ctx, name_len;
	char name[64];
};

struct rp_ctx_res {
	uint32_t ctx, id, on;
};

struct rp_submit {
	uint32_t ctx, ndw;
	uint64_t ring_off; /* where in the ring its ndw words start; they do not wrap */
};

struct rp_fence {
	uint32_t ctx, fence;
};

struct rp_caps {
	uint32_t id, version, size;
};

struct rp_reply {
	int32_t rc;
	uint32_t w, h;    /* CURSOR: the image's size */
	uint64_t ring_end; /* DONE: where what it took ends in the ring */
};

struct rp_failed {
	uint32_t op; /* the message's */
	uint32_t id; /* the resource or context it named */
	int32_t rc;
	uint32_t pad;
};

/* The spawner (render_spawn.c), a small process forked before the broker confines itself, starts the workers: the
 * broker may not fork or make sockets once sandboxed. Its own messages, on its own SOCK_SEQPACKET connection, use
 * the same header. */
#define RS_MESSAGES(X)                                                        \
	X(SPAWN, B, struct rs_spawn)     /* start a worker */                 \
	X(SPAWNED, W, struct rs_spawned) /* + fd: the worker's connection */    \
	X(KILL, B, struct rs_pid)        /* signal one of its workers */        \
	X(EXITED, W, struct rs_exited)   /* a worker ended */

enum rs_op {
#define RS_ENUM(name, by, type) RS_##name,
	RS_MESSAGES(RS_ENUM)
#undef RS_ENUM
	RS_NOPS
};

struct rs_spawned {
	int32_t pid; /* -1: none started (err says why) */
	int32_t err; /* errno */
};

struct rs_spawn {
	uint32_t start_delay_ms; /* --test-faults: the worker waits this long before READY; else 0 */
	uint32_t mem_limit_mb;   /* the worker's RLIMIT_DATA in MiB, 0 for none */
};

struct rs_pid {
	int32_t pid;
	int32_t sig; /* 0: SIGKILL; SIGSEGV, SIGSTOP and SIGCONT only for --test-faults */
};

struct rs_exited {
	int32_t pid;
	int32_t status; /* as waitpid gives it */
};

/* The largest message: a header and the largest payload. */
#define RP_MAX_MSG (sizeof(struct rp_hdr) + sizeof(struct rp_ready))

/* The payload size of op (0 for an op that is none), and its name; rs_ for the spawner's. */
uint32_t rp_payload_size(uint32_t op);
const char *rp_op_name(uint32_t op);
uint32_t rs_payload_size(uint32_t op);
const char *rs_op_name(uint32_t op);

/* Send one message (payload of exactly len bytes, fd -1 for none) on a SOCK_SEQPACKET socket. 0, or -1 (errno). */
int rp_send(int sock, uint32_t op, uint32_t seq, const void *payload, uint32_t len, int fd);

/* Receive one message into buf (RP_MAX_MSG bytes): its header in *h, payload after it, a descriptor it carried in
 * *fd (-1 none; more than one, or a cut message, is an error). 1 got one, 0 the peer closed, -1 an error (errno;
 * EAGAIN on a non-blocking socket with nothing waiting, EPROTO for a message that breaks the framing). The header's
 * op and len are not checked here. */
int rp_recv(int sock, struct rp_hdr *h, void *buf, int *fd);

#endif
