/* shared_mem.c: the table of this process's memory that a render worker may map too (shared_mem.h). A small
 * array under a mutex: a process holds a few guest RAM regions per vGPU and a vtest client's buffers. */
#define _GNU_SOURCE
#include "render/shared_mem.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct entry {
	uint8_t *base;
	size_t len;
	int fd;
	uint64_t file_off;
	uint32_t id;
};

static struct {
	pthread_mutex_t mu;
	struct entry *e;
	size_t n, cap;
	uint32_t next_id;
} T = { .mu = PTHREAD_MUTEX_INITIALIZER };

uint32_t shmem_add(void *base, size_t len, int fd, uint64_t file_off)
{
	uint32_t id = 0;
	int dfd;

	if (!base || !len || (dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return 0;
	pthread_mutex_lock(&T.mu);
	if (T.n == T.cap) {
		size_t cap = T.cap ? 2 * T.cap : 16;
		struct entry *e = realloc(T.e, cap * sizeof(*e));

		if (e) {
			T.e = e;
			T.cap = cap;
		}
	}
	if (T.n < T.cap) {
		if (++T.next_id == 0)
			T.next_id = 1;
		id = T.next_id;
		T.e[T.n++] = (struct entry){ base, len, dfd, file_off, id };
	}
	pthread_mutex_unlock(&T.mu);
	if (!id)
		close(dfd);
	return id;
}

void shmem_remove(void *base)
{
	int fd = -1;

	pthread_mutex_lock(&T.mu);
	for (size_t i = 0; i < T.n; i++)
		if (T.e[i].base == base) {
			fd = T.e[i].fd;
			T.e[i] = T.e[--T.n];
			break;
		}
	pthread_mutex_unlock(&T.mu);
	if (fd >= 0)
		close(fd);
}

int shmem_find(const void *p, size_t len, struct shmem_where *w)
{
	const uint8_t *a = p;
	int r = -1;

	pthread_mutex_lock(&T.mu);
	for (size_t i = 0; i < T.n && r < 0; i++) {
		const struct entry *e = &T.e[i];

		if (a >= e->base && (size_t)(a - e->base) <= e->len && len <= e->len - (size_t)(a - e->base)) {
			*w = (struct shmem_where){ e->id, e->fd, e->file_off, e->len, (uint64_t)(a - e->base) };
			r = 0;
		}
	}
	pthread_mutex_unlock(&T.mu);
	return r;
}

int shmem_alive(uint32_t id)
{
	int alive = 0;

	pthread_mutex_lock(&T.mu);
	for (size_t i = 0; i < T.n && !alive; i++)
		alive = T.e[i].id == id;
	pthread_mutex_unlock(&T.mu);
	return alive;
}
