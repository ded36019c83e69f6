/* shared_mem.h: the memory of this process that another process may map too. Each entry is a range of this
 * process's address space backed by a file (a memfd) from an offset: guest RAM regions (guest_mem.c) and a vtest
 * client's buffers (vtest_dev.c) are entered as they are mapped and leave as they are unmapped. A render worker
 * (render/worker.c) is handed a resource's backing as entries and offsets, and maps the same pages itself, so
 * nothing is copied through the broker. Entries hold their own duplicate of the file descriptor. Thread-safe. */
#ifndef VGPU_SHARED_MEM_H
#define VGPU_SHARED_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Enter [base, base + len), the file fd from file_off on (fd is duplicated). Its id (never 0), or 0 when the
 * process is out of descriptors or memory: that memory then cannot reach a worker, and attaching it there fails. */
uint32_t shmem_add(void *base, size_t len, int fd, uint64_t file_off);

/* The entry that starts at base leaves (its descriptor is closed). Nothing when there is none. */
void shmem_remove(void *base);

struct shmem_where {
	uint32_t id;       /* the entry */
	int fd;            /* its descriptor: valid while the entry is (send it, do not close it) */
	uint64_t file_off; /* where the entry starts in the file */
	uint64_t len;      /* the entry's length */
	uint64_t off;      /* where [p, p + len) starts inside the entry */
};

/* The entry holding all of [p, p + len): 0 and *w, or -1 when no entry holds it. */
int shmem_find(const void *p, size_t len, struct shmem_where *w);

/* Whether entry id is still there. */
int shmem_alive(uint32_t id);

#endif
