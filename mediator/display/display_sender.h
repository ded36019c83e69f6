/* display_sender.h: the mediator's display-sender threads. A vGPU's display
 * update is readied on the loop thread (read back from the renderer,
 * converted, or copied into the vGPU's own send buffer) and handed over here
 * as a job: a channel and the messages to put on it. A sender thread writes
 * every job it holds without blocking, as each channel takes more, while the
 * loop goes on serving rings: a refresh never holds the loop on a display
 * socket, and a front-end slow to read holds up only its own channel.
 *
 * Contract:
 *   - jobs are handed over by one thread (the loop); a job is handed over
 *     again only once it is done (dsend_busy says 0), and while it is in
 *     flight its owner touches neither the job nor what its messages point
 *     at, nor sends on its fd;
 *   - a job's messages go out whole and in order; each must be taken within
 *     the job's time limit from when it started, or the job fails there with
 *     the reason (why) and the rest is not sent (the owner then closes the
 *     channel: a message cut short leaves it unusable);
 *   - with no sender (NULL, as dsend_start makes for 0 threads) dsend_submit
 *     sends the job in the caller, waiting as long as the limits allow: the
 *     same result, on one thread;
 *   - when a job is done the wake fd (an eventfd, or -1 for none) gets a 1,
 *     so the loop wakes to take in the outcome; dsend_wait blocks until then;
 *   - threads are made by dsend_start only (before the sandbox forbids more
 *     than what llvmpipe needs); dsend_stop finishes the jobs it holds and
 *     joins them. */
#ifndef VGPU_DISPLAY_SENDER_H
#define VGPU_DISPLAY_SENDER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define DSEND_MAX_THREADS 15
#define DSEND_HEAD_MAX	  32 /* a message's own bytes (a header and a small body), before its payload */

/* One message: head[0..head_len) then payload[0..payload_len). */
struct dsend_msg {
	uint8_t head[DSEND_HEAD_MAX];
	size_t head_len;
	const void *payload;
	size_t payload_len;
	uint32_t tag;	  /* what it is, for the reason a send failed (a display request number) */
	uint64_t sent_ns; /* the sender's: from its first byte tried to its last taken */
};

struct dsend_job {
	int fd;
	unsigned timeout_ms; /* the longest one message may take */
	struct dsend_msg *msg;
	unsigned nmsg;
	/* the outcome, the owner's to read once the job is done */
	unsigned sent; /* messages taken whole; fewer than nmsg when it failed */
	int failed;
	char why[192];
	/* the sender's */
	atomic_int busy;
	struct dsend_job *next;
	size_t off;	     /* bytes of msg[sent] taken */
	int64_t deadline_ms; /* msg[sent]'s (0: not started) */
	uint64_t start_ns;
};

struct dsend;

/* A sender of `threads` threads (0..DSEND_MAX_THREADS) that writes to wake_fd. *out is NULL with 0.
 * 0, or -1 (errno: none made). */
int dsend_start(struct dsend **out, unsigned threads, int wake_fd);
void dsend_stop(struct dsend *s);
unsigned dsend_threads(const struct dsend *s);

/* Hand job over (fd, timeout_ms, msg and nmsg set; not busy). */
void dsend_submit(struct dsend *s, struct dsend_job *job);

/* 1 while job is handed over and not done; 0 once done, and then its outcome is visible. */
int dsend_busy(struct dsend_job *job);

/* Block until job is done (at once when it is not busy). */
void dsend_wait(struct dsend *s, struct dsend_job *job);

/* Jobs done so far, and the most any thread held at once. */
void dsend_counts(struct dsend *s, uint64_t *jobs, unsigned *most_held);

#endif
