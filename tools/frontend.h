/* frontend.h: a vhost-user front-end for tests: plays QEMU's part towards a
 * back-end over a unix socket, with guest RAM in a memfd, so the mediator's
 * device can be driven without booting a VM. */
#ifndef VGPU_TEST_FRONTEND_H
#define VGPU_TEST_FRONTEND_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct frontend {
	int sock;     /* our end of the connection */
	int ram_fd;   /* the guest RAM memfd */
	uint8_t *ram; /* the guest's view of it */
	size_t ram_size;
	uint64_t uva; /* where "QEMU" has guest RAM mapped (what SET_MEM_TABLE and SET_VRING_ADDR say) */
};

/* Guest RAM of ram_size bytes at gpa 0; sock is the connected socket to the back-end. 0 or -1. */
int fe_init(struct frontend *fe, int sock, size_t ram_size);
void fe_free(struct frontend *fe);

/* Send len bytes with up to 16 fds (SCM_RIGHTS) in one sendmsg. 0 or -1. */
int fe_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);

/* Send one message (flags: VHOST_USER_VERSION is added). 0 or -1. */
int fe_send(struct frontend *fe, uint32_t req, uint32_t flags, const void *payload, uint32_t size, const int *fds,
	    int nfds);

/* Read one reply: its request and payload (up to cap bytes); returns the payload size or -1. */
int fe_reply(struct frontend *fe, uint32_t *req, void *payload, size_t cap);

/* Read the REPLY_ACK of request `what`: 0 when it reports success, else -1 with the reason in why. */
int fe_ack(struct frontend *fe, const char *what, char *why, size_t whylen);

/* A round trip (GET_FEATURES) after messages sent without a reply: the back-end serves its socket in order, so
 * when the answer comes every message before it has been handled. 0, or -1 with the reason in why. */
int fe_barrier(struct frontend *fe, const char *what, char *why, size_t whylen);

/* Negotiate the way QEMU does with a back-end in another process: GET_FEATURES (the offer goes to
 * *offered), GET/SET_PROTOCOL_FEATURES (REPLY_ACK, which must be offered), SET_OWNER, SET_FEATURES(want)
 * acknowledged. 0, or -1 with the reason in why. */
int fe_negotiate(struct frontend *fe, uint64_t want, uint64_t *offered, char *why, size_t whylen);

/* Wait on the call eventfd until ring `base`'s used index is `idx`, at most timeout_ms. 0, or -1. */
int fe_wait_used(struct frontend *fe, uint64_t base, int call, uint16_t idx, int timeout_ms);

/* SET_MEM_TABLE with the whole guest RAM as one region (of size region_size). */
int fe_mem_table(struct frontend *fe, uint64_t region_size, uint32_t flags);

/* Lay out a split ring of num entries at gpa base (desc), base+0x1000 (avail), base+0x2000 (used) and send
 * SET_VRING_NUM/ADDR/BASE, CALL and KICK (eventfds returned), and ENABLE. 0 or -1. */
int fe_setup_ring(struct frontend *fe, unsigned qi, uint16_t num, uint64_t base, int *kick, int *call);

/* GET_VRING_BASE of queue qi (the ring stops): *at gets where it stopped. 0 or -1. */
int fe_stop_ring(struct frontend *fe, unsigned qi, uint16_t *at);

/* Start queue qi again on the ring at gpa base as it is (not cleared), at index `at`: what QEMU does on resume
 * (fresh kick and call eventfds returned). 0 or -1. */
int fe_resume_ring(struct frontend *fe, unsigned qi, uint16_t num, uint64_t base, uint16_t at, int *kick, int *call);

/* Place a chain on the ring laid out by fe_setup_ring at base, descriptors head and head+1: one readable
 * buffer at gpa `in` of in_len bytes and one writable at gpa `out` of out_len bytes; publish it (no kick). */
void fe_post(struct frontend *fe, uint64_t base, uint16_t num, uint16_t head, uint64_t in, uint32_t in_len,
	     uint64_t out, uint32_t out_len);

/* The ring's used index as the back-end last published it. */
uint16_t fe_used_idx(struct frontend *fe, uint64_t base);

/* Ask for an interrupt once the used index reaches `idx` (VIRTIO_RING_F_EVENT_IDX's used_event). */
void fe_want_used(struct frontend *fe, uint64_t base, uint16_t num, uint16_t idx);

/* Kick the back-end through eventfd `kick`. 0 or -1. */
int fe_kick(int kick);

/* Answer a back-end's request on the display channel (QEMU's end of VHOST_USER_GPU_SET_SOCKET): header
 * with the reply flag and `size` bytes of payload, in one write. 0 or -1. */
int fe_display_reply(int fd, uint32_t req, const void *payload, uint32_t size);

/* Answer, as QEMU does, a display-channel request of the back-end's that waits for a reply: protocol features
 * (EDID), display info (one w x h display), EDID (none), a dma-buf update. 1 when req was one of them. */
int fe_display_answer(int fd, uint32_t req, uint32_t w, uint32_t h);

/* A display channel played as QEMU plays its end of VHOST_USER_GPU_SET_SOCKET: a thread answers the back-end's
 * requests (protocol features, one w x h display, no EDID) and reads everything else it sends, noting per scanout
 * (up to FE_SCANOUTS) the size announced, the updates and the first pixel of the last one. */
#define FE_SCANOUTS 16
struct fe_display {
	int fd; /* our end, -1 when none */
	uint32_t w, h;
	pthread_t th;
	int up;
	_Atomic int stop;
	_Atomic int closed; /* the back-end closed it or sent garbage */
	_Atomic uint32_t shown_w[FE_SCANOUTS], shown_h[FE_SCANOUTS], last_pixel[FE_SCANOUTS];
	_Atomic uint64_t updates[FE_SCANOUTS];
};

/* Create the channel, start its thread and hand the other end over (GPU_SET_SOCKET, acknowledged when REPLY_ACK
 * was negotiated: ack). 0 or -1. */
int fe_display_start(struct frontend *fe, struct fe_display *d, uint32_t w, uint32_t h, int ack);
void fe_display_stop(struct fe_display *d);

/* fe_post, then fe_kick. */
void fe_offer(struct frontend *fe, uint64_t base, uint16_t num, uint16_t head, uint64_t in, uint32_t in_len,
	      uint64_t out, uint32_t out_len, int kick);

#endif
