/* display_sender.c: the display-sender threads (see the header). Each thread
 * has its own queue and wake-up eventfd; jobs are dealt to the threads in
 * turn. A thread writes each job it holds with non-blocking sends, as far as
 * its channel takes, then polls every channel still owing bytes (and its
 * wake-up) until the nearest message's time limit. */
#define _GNU_SOURCE
#include "display/display_sender.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mono_clock.h"

#define HELD_MAX 256 /* jobs one thread writes at once; more wait in its queue */

struct sender_thread {
	struct dsend *s;
	pthread_t th;
	int wake;		       /* eventfd: a job queued, or stop */
	struct dsend_job *head, *tail; /* queued, not yet taken (under s->mu) */
	unsigned held;		       /* queued or being written (under s->mu) */
};

struct dsend {
	pthread_mutex_t mu;
	pthread_cond_t done;
	struct sender_thread t[DSEND_MAX_THREADS];
	unsigned n, next;
	int stop;
	int wake_fd;
	uint64_t jobs;	    /* done (under mu) */
	unsigned most_held; /* (under mu) */
};

static int job_fail(struct dsend_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int job_fail(struct dsend_job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
	j->failed = 1;
	if (j->sent < j->nmsg) /* the message it failed on: how long it was tried */
		j->msg[j->sent].sent_ns = j->deadline_ms ? mono_ns() - j->start_ns : 0;
	return 1;
}

/* Write as much of the job as its channel takes now. 1 when the job is over (all sent, or failed), 0 when it waits
 * for the channel to take more (until j->deadline_ms). */
static int progress(struct dsend_job *j)
{
	if (j->fd < 0 && j->sent < j->nmsg)
		return job_fail(j, "no display channel");
	while (j->sent < j->nmsg) {
		struct dsend_msg *m = &j->msg[j->sent];
		struct iovec iov[2];
		struct msghdr mh = {.msg_iov = iov};
		ssize_t w;

		if (!j->deadline_ms) {
			j->start_ns = mono_ns();
			j->deadline_ms = (int64_t)(j->start_ns / 1000000u) + j->timeout_ms;
		}
		if (j->off < m->head_len)
			iov[mh.msg_iovlen++] = (struct iovec){m->head + j->off, m->head_len - j->off};
		if (m->payload_len) {
			size_t done = j->off > m->head_len ? j->off - m->head_len : 0;

			iov[mh.msg_iovlen++] = (struct iovec){(uint8_t *)m->payload + done, m->payload_len - done};
		}
		w = sendmsg(j->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (mono_ms() >= j->deadline_ms)
				return job_fail(j, "front-end did not take display request %u within %u ms", m->tag,
						j->timeout_ms);
			return 0;
		}
		if (w < 0)
			return job_fail(j, "display channel send: %s", strerror(errno));
		j->off += (size_t)w;
		if (j->off >= m->head_len + m->payload_len) {
			m->sent_ns = mono_ns() - j->start_ns;
			j->sent++;
			j->off = 0;
			j->deadline_ms = 0;
		}
	}
	return 1;
}

static void job_reset(struct dsend_job *j)
{
	j->sent = 0;
	j->failed = 0;
	j->why[0] = 0;
	j->off = 0;
	j->deadline_ms = 0;
}

/* The job is over: its owner may look (busy cleared last), waiters and the loop are woken. */
static void finish(struct sender_thread *t, struct dsend_job *j)
{
	struct dsend *s = t->s;
	uint64_t one = 1;

	pthread_mutex_lock(&s->mu);
	atomic_store_explicit(&j->busy, 0, memory_order_release);
	t->held--;
	s->jobs++;
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->mu);
	/* A full counter (never, in practice) still leaves the fd readable: the loop wakes either way. */
	while (s->wake_fd >= 0 && write(s->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *sender_main(void *arg)
{
	struct sender_thread *t = arg;
	struct dsend *s = t->s;
	struct dsend_job *held[HELD_MAX];
	struct pollfd pfd[HELD_MAX + 1];
	unsigned n = 0;

	for (;;) {
		int stopping, timeout = -1;
		int64_t now;
		nfds_t np = 1;

		pthread_mutex_lock(&s->mu);
		while (t->head && n < HELD_MAX) {
			held[n++] = t->head;
			t->head = t->head->next;
		}
		if (!t->head)
			t->tail = NULL;
		stopping = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stopping && !n)
			break;
		for (unsigned k = 0; k < n;) {
			if (progress(held[k])) {
				finish(t, held[k]);
				held[k] = held[--n];
				continue;
			}
			k++;
		}
		now = mono_ms();
		pfd[0] = (struct pollfd){.fd = t->wake, .events = POLLIN};
		for (unsigned k = 0; k < n; k++) {
			int64_t left = held[k]->deadline_ms - now;

			pfd[np++] = (struct pollfd){.fd = held[k]->fd, .events = POLLOUT};
			if (left < 0)
				left = 0;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		if (stopping && !n) /* its stop wake-up may have been emptied already: no poll for it */
			break;
		if (poll(pfd, np, timeout) > 0 && (pfd[0].revents & POLLIN)) {
			uint64_t v;

			/* Only emptied: the queue is looked at every round, so a failed read loses nothing. */
			(void)!read(t->wake, &v, sizeof(v));
		}
	}
	return NULL;
}

int dsend_start(struct dsend **out, unsigned threads, int wake_fd)
{
	struct dsend *s;

	*out = NULL;
	if (threads == 0)
		return 0;
	if (threads > DSEND_MAX_THREADS) {
		errno = EINVAL;
		return -1;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->done, NULL);
	s->wake_fd = wake_fd;
	for (; s->n < threads; s->n++) {
		struct sender_thread *t = &s->t[s->n];
		int e;

		t->s = s;
		if ((t->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			e = errno;
			dsend_stop(s);
			errno = e;
			return -1;
		}
		if ((e = pthread_create(&t->th, NULL, sender_main, t))) {
			close(t->wake);
			dsend_stop(s);
			errno = e;
			return -1;
		}
	}
	*out = s;
	return 0;
}

static void poke(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void dsend_stop(struct dsend *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < s->n; i++)
		poke(s->t[i].wake);
	for (unsigned i = 0; i < s->n; i++) {
		pthread_join(s->t[i].th, NULL);
		close(s->t[i].wake);
	}
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

unsigned dsend_threads(const struct dsend *s)
{
	return s ? s->n : 0;
}

void dsend_submit(struct dsend *s, struct dsend_job *job)
{
	struct sender_thread *t;

	job_reset(job);
	if (!s) {
		while (!progress(job)) {
			struct pollfd p = {.fd = job->fd, .events = POLLOUT};
			int64_t left = job->deadline_ms - mono_ms();

			poll(&p, 1, left < 0 ? 0 : (int)left);
		}
		return;
	}
	atomic_store_explicit(&job->busy, 1, memory_order_relaxed);
	job->next = NULL;
	pthread_mutex_lock(&s->mu);
	t = &s->t[s->next++ % s->n];
	if (t->tail)
		t->tail->next = job;
	else
		t->head = job;
	t->tail = job;
	if (++t->held > s->most_held)
		s->most_held = t->held;
	pthread_mutex_unlock(&s->mu);
	poke(t->wake);
}

int dsend_busy(struct dsend_job *job)
{
	return atomic_load_explicit(&job->busy, memory_order_acquire);
}

void dsend_wait(struct dsend *s, struct dsend_job *job)
{
	if (!s || !dsend_busy(job))
		return;
	pthread_mutex_lock(&s->mu);
	while (atomic_load_explicit(&job->busy, memory_order_acquire))
		pthread_cond_wait(&s->done, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

void dsend_counts(struct dsend *s, uint64_t *jobs, unsigned *most_held)
{
	*jobs = 0;
	*most_held = 0;
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	*jobs = s->jobs;
	*most_held = s->most_held;
	pthread_mutex_unlock(&s->mu);
}
