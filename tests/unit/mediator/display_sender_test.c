/* display_sender_test.c: the mediator's display senders
 * (mediator/display/display_sender.h) over real socket pairs: messages arrive whole
 * and in order, large payloads in pieces as the reader takes them; a channel
 * whose reader stalls fails alone at its time limit, with the reason, while
 * the other channels' jobs go out meanwhile on the same thread; a reader that
 * closes fails the job at once; the loop's wake-up fd is written per job;
 * without threads the caller sends; a stop finishes what is held. Run under
 * ASan and TSan by make test. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "display/display_sender.h"
#include "io_full.h"
#include "vhost/vhost_msg.h"

#define BIG (3u << 20) /* a 1024x768 frame: far more than a socket buffer holds */

/* A reader of one channel: counts what arrives and checks the order of the messages' numbers. */
struct reader {
	int fd;
	pthread_t th;
	_Atomic uint64_t bytes;
	_Atomic unsigned msgs;
	_Atomic int bad; /* a message out of order or with the wrong bytes */
	unsigned period; /* the numbers start again at 0 after this many (0: they never do) */
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t *body = malloc(BIG);

	for (unsigned got = 0; body; got++) {
		uint32_t hdr[2]; /* number, payload length */
		unsigned want = r->period ? got % r->period : got;

		if (io_read_full(r->fd, hdr, sizeof(hdr)) < 0 || hdr[1] > BIG ||
		    io_read_full(r->fd, body, hdr[1]) < 0)
			break;
		if (hdr[0] != want || (hdr[1] && (body[0] != (uint8_t)want || body[hdr[1] - 1] != (uint8_t)want)))
			atomic_store(&r->bad, 1);
		atomic_fetch_add(&r->bytes, sizeof(hdr) + hdr[1]);
		atomic_fetch_add(&r->msgs, 1);
	}
	free(body);
	return NULL;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Message k: its number and length in its head, a payload filled with k. */
static void make_msg(struct dsend_msg *m, uint32_t k, uint8_t *payload, size_t len)
{
	uint32_t hdr[2] = {k, (uint32_t)len};

	memset(m, 0, sizeof(*m));
	memcpy(m->head, hdr, sizeof(hdr));
	m->head_len = sizeof(hdr);
	memset(payload, (int)k, len);
	m->payload = payload;
	m->payload_len = len;
	m->tag = 100 + k;
}

static void wait_done(struct dsend_job *j, unsigned ms)
{
	for (unsigned i = 0; i < ms / 5 && dsend_busy(j); i++)
		usleep(5000);
}

/* The same job again, on the same channel, once its reader reads: it goes out. */
static void resubmit(struct dsend *s, struct dsend_job *ja, int a0, int a1)
{
	struct reader ra = {.fd = a1};
	uint8_t junk[1 << 16];

	/* what the failed job left in the channel (a message cut short) is no longer a stream a reader
	 * could follow: the owner closes such a channel. Here the test drains it and starts anew. */
	while (recv(a1, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	pthread_create(&ra.th, NULL, reader_main, &ra);
	dsend_submit(s, ja);
	dsend_wait(s, ja);
	CHECK(!ja->failed && ja->sent == 2 && ja->why[0] == 0, "resubmitted: sent whole (%s)", ja->why);
	for (int i = 0; i < 200 && atomic_load(&ra.msgs) < 2; i++)
		usleep(5000);
	CHECK(atomic_load(&ra.msgs) == 2 && !atomic_load(&ra.bad), "and read in order (%u)",
	      atomic_load(&ra.msgs));
	shutdown(a0, SHUT_WR);
	pthread_join(ra.th, NULL);
}

/* Several threads: jobs dealt in turn, each channel's own messages in order. */
static void test_threads(uint8_t *pb)
{
	struct dsend *s = NULL;
	enum { CH = 6 };
	int p[CH][2];
	struct reader r[CH];
	struct dsend_msg m[CH][2];
	struct dsend_job j[CH];
	int ok = 1;

	CHECK(dsend_start(&s, 3, -1) == 0 && dsend_threads(s) == 3, "three threads, no wake-up fd");
	for (int c = 0; c < CH; c++) {
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p[c]) == 0, "channel %d", c);
		memset(&r[c], 0, sizeof(r[c]));
		r[c].fd = p[c][1];
		pthread_create(&r[c].th, NULL, reader_main, &r[c]);
	}
	for (int round = 0; round < 5; round++) {
		memset(pb + (uint64_t)round * 128, round * 2, 64);
		memset(pb + (uint64_t)round * 128 + 64, round * 2 + 1, 64);
		for (int c = 0; c < CH; c++) {
			for (uint32_t k = 0; k < 2; k++) {
				uint32_t hdr[2] = {(uint32_t)round * 2 + k, 64};

				memset(&m[c][k], 0, sizeof(m[c][k]));
				memcpy(m[c][k].head, hdr, sizeof(hdr));
				m[c][k].head_len = sizeof(hdr);
				m[c][k].payload =
				    pb + (uint64_t)(round * 2 + k) * 64; /* filled with its number */
				m[c][k].payload_len = 64;
			}
			j[c] = (struct dsend_job){.fd = p[c][0], .timeout_ms = 2000, .msg = m[c], .nmsg = 2};
			dsend_submit(s, &j[c]);
		}
		for (int c = 0; c < CH; c++) {
			dsend_wait(s, &j[c]);
			ok &= !j[c].failed && j[c].sent == 2;
		}
	}
	CHECK(ok, "five rounds of six channels, every job sent");
	dsend_stop(s);
	for (int c = 0; c < CH; c++) {
		shutdown(p[c][0], SHUT_WR);
		pthread_join(r[c].th, NULL);
		ok &= atomic_load(&r[c].msgs) == 10 && !atomic_load(&r[c].bad);
		close(p[c][0]);
		close(p[c][1]);
	}
	CHECK(ok, "each channel got its ten messages in order");
}

int main(void)
{
	int a[2], b[2], wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct reader rb = {0};
	struct dsend *s = NULL;
	struct dsend_msg ma[2], mb[3];
	struct dsend_job ja = {0}, jb = {0};
	uint8_t *pa = malloc(2 * BIG), *pb = malloc(3 * BIG);
	uint64_t jobs, v = 0, t0;
	unsigned most;

	CHECK(wake >= 0 && pa && pb, "set-up");
	CHECK(dsend_start(&s, 0, wake) == 0 && s == NULL && dsend_threads(s) == 0, "no threads: no sender");
	CHECK(dsend_start(&s, DSEND_MAX_THREADS + 1, wake) < 0 && s == NULL, "too many threads refused");
	CHECK(dsend_start(&s, 1, wake) == 0 && dsend_threads(s) == 1, "one sender thread");

	/* a: its reader never reads; b: read as it comes. One thread holds both jobs. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) == 0 &&
		  socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b) == 0,
	      "two channels");
	rb.fd = b[1];
	pthread_create(&rb.th, NULL, reader_main, &rb);
	for (uint32_t k = 0; k < 2; k++)
		make_msg(&ma[k], k, pa + k * BIG, BIG);
	for (uint32_t k = 0; k < 3; k++)
		make_msg(&mb[k], k, pb + k * BIG, k == 1 ? 0 : BIG);
	ja = (struct dsend_job){.fd = a[0], .timeout_ms = 1500, .msg = ma, .nmsg = 2};
	jb = (struct dsend_job){.fd = b[0], .timeout_ms = 1500, .msg = mb, .nmsg = 3};
	t0 = ms_now();
	dsend_submit(s, &ja);
	dsend_submit(s, &jb);
	CHECK(dsend_busy(&ja), "a's job in flight: the caller did not wait for a reader that does not read");
	wait_done(&jb, 1000);
	CHECK(!dsend_busy(&jb) && !jb.failed && jb.sent == 3, "b's three messages went out meanwhile (%u, %s)", jb.sent,
	      jb.why);
	CHECK(dsend_busy(&ja), "while a's job still waits on its reader, on the same thread");
	for (int i = 0; i < 200 && atomic_load(&rb.msgs) < 3; i++)
		usleep(5000);
	CHECK(atomic_load(&rb.msgs) == 3 && !atomic_load(&rb.bad) &&
		  atomic_load(&rb.bytes) == 3 * 8 + 2 * (uint64_t)BIG,
	      "b's reader got them whole and in order (%u messages, %llu bytes)", atomic_load(&rb.msgs),
	      (unsigned long long)atomic_load(&rb.bytes));
	CHECK(mb[0].sent_ns > 0 && mb[2].sent_ns > 0, "each message's send timed");
	dsend_wait(s, &ja);
	CHECK(ja.failed && ja.sent == 0 && strstr(ja.why, "did not take display request 100 within 1500 ms"),
	      "a's job failed at its time limit, its first message named: %s", ja.why);
	CHECK(ms_now() - t0 >= 1400, "not before the limit (%llu ms)", (unsigned long long)(ms_now() - t0));
	CHECK(ma[0].sent_ns >= 1400000000ull, "the failed message's time is the time it was tried (%llu ns)",
	      (unsigned long long)ma[0].sent_ns);
	/* The wake-up is written after the job is seen done (the loop, woken, must find it done), so it may come a
	 * moment after dsend_wait returned. */
	for (int i = 0; i < 200 && v < 2; i++) {
		uint64_t got = 0;

		if (read(wake, &got, sizeof(got)) == sizeof(got))
			v += got;
		else
			usleep(5000);
	}
	CHECK(v == 2, "the loop's wake-up written once a job (%llu)", (unsigned long long)v);

	resubmit(s, &ja, a[0], a[1]);
	close(a[0]);
	close(a[1]);

	/* a reader that closes: the job fails at once with the reason */
	shutdown(b[1], SHUT_RDWR);
	pthread_join(rb.th, NULL);
	close(b[1]);
	t0 = ms_now();
	dsend_submit(s, &jb);
	dsend_wait(s, &jb);
	CHECK(jb.failed && strstr(jb.why, "display channel send:"), "a closed reader: %s", jb.why);
	CHECK(ms_now() - t0 < 1000, "at once, not at the time limit");
	dsend_counts(s, &jobs, &most);
	CHECK(jobs == 4 && most == 2, "jobs counted (%llu), two held at once (%u)", (unsigned long long)jobs, most);
	close(b[0]);

	/* no sender: the caller sends, and waits as a sender would */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b) == 0, "a third channel");
	memset(&rb, 0, sizeof(rb));
	rb.fd = b[1];
	rb.period = 3; /* the same job twice */
	pthread_create(&rb.th, NULL, reader_main, &rb);
	jb.fd = b[0];
	dsend_submit(NULL, &jb);
	CHECK(!dsend_busy(&jb) && !jb.failed && jb.sent == 3, "sent in the caller (%s)", jb.why);
	dsend_wait(NULL, &jb);

	/* a stop with a job held: it is finished first */
	dsend_submit(s, &jb);
	dsend_stop(s);
	CHECK(!dsend_busy(&jb) && !jb.failed && jb.sent == 3, "the stop finished the held job (%s)", jb.why);
	shutdown(b[0], SHUT_WR);
	pthread_join(rb.th, NULL);
	CHECK(atomic_load(&rb.msgs) == 6 && !atomic_load(&rb.bad), "both arrived in order (%u messages)",
	      atomic_load(&rb.msgs));
	close(b[0]);
	close(b[1]);

	test_threads(pb);
	dsend_stop(NULL);
	close(wake);
	free(pa);
	free(pb);
	return check_done("display_sender");
}
