/* guest_mem.c: guest RAM regions shared by the front-end. */
#define _GNU_SOURCE
#include "vhost/guest_mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/shared_mem.h"

/* [a, a + alen) and [b, b + blen) overlap; both are known not to wrap. */
static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int guest_mem_add(struct guest_mem *m, int fd, uint64_t gpa, uint64_t size, uint64_t uva, uint64_t mmap_offset,
		  char *err, size_t errlen)
{
	struct stat st;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start, len;
	void *p;

	if (m->n >= GUEST_MEM_MAX_REGIONS) {
		snprintf(err, errlen, "more than %d memory regions", GUEST_MEM_MAX_REGIONS);
		return -1;
	}
	if (size == 0 || gpa + size < gpa || uva + size < uva || mmap_offset + size < mmap_offset) {
		snprintf(err, errlen, "region gpa 0x%llx size 0x%llx is empty or wraps", (unsigned long long)gpa,
			 (unsigned long long)size);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "fstat of the region's fd: %s", strerror(errno));
		return -1;
	}
	if (st.st_size < 0 || mmap_offset + size > (uint64_t)st.st_size) {
		snprintf(err, errlen, "region (offset 0x%llx, size 0x%llx) is larger than its file (0x%llx bytes)",
			 (unsigned long long)mmap_offset, (unsigned long long)size, (unsigned long long)st.st_size);
		return -1;
	}
	for (int i = 0; i < m->n; i++)
		if (overlaps(gpa, size, m->r[i].gpa, m->r[i].size) || overlaps(uva, size, m->r[i].uva, m->r[i].size)) {
			snprintf(err, errlen, "region gpa 0x%llx overlaps region %d", (unsigned long long)gpa, i);
			return -1;
		}
	/* mmap wants a page-aligned offset: map from the page that holds mmap_offset. */
	start = mmap_offset & ~(uint64_t)(page - 1);
	len = size + (mmap_offset - start);
	if (len > SIZE_MAX) {
		snprintf(err, errlen, "region too large to map");
		return -1;
	}
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)start);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap of region (size 0x%llx): %s", (unsigned long long)size, strerror(errno));
		return -1;
	}
	m->r[m->n] = (struct guest_region){ .gpa = gpa,
					    .size = size,
					    .uva = uva,
					    .mmap_offset = mmap_offset,
					    .dev = (uint64_t)st.st_dev,
					    .ino = (uint64_t)st.st_ino,
					    .host = (uint8_t *)p + (mmap_offset - start),
					    .map_base = p,
					    .map_len = (size_t)len };
	/* A render worker may map the same pages (shared_mem.h). */
	shmem_add(m->r[m->n].host, (size_t)size, fd, mmap_offset);
	m->n++;
	return 0;
}

int guest_mem_same(const struct guest_mem *a, const struct guest_mem *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++) {
		const struct guest_region *x = &a->r[i], *y = &b->r[i];

		if (x->gpa != y->gpa || x->size != y->size || x->uva != y->uva || x->mmap_offset != y->mmap_offset ||
		    x->dev != y->dev || x->ino != y->ino)
			return 0;
	}
	return 1;
}

void guest_mem_clear(struct guest_mem *m)
{
	for (int i = 0; i < m->n; i++) {
		shmem_remove(m->r[i].host);
		munmap(m->r[i].map_base, m->r[i].map_len);
	}
	memset(m, 0, sizeof(*m));
}

static void *translate(const struct guest_mem *m, uint64_t addr, uint64_t len, int by_uva)
{
	if (len == 0 || addr + len < addr)
		return NULL;
	for (int i = 0; i < m->n; i++) {
		uint64_t base = by_uva ? m->r[i].uva : m->r[i].gpa;

		/* addr - base cannot underflow once addr >= base; compare lengths, never end addresses. */
		if (addr >= base && addr - base < m->r[i].size && len <= m->r[i].size - (addr - base))
			return m->r[i].host + (addr - base);
	}
	return NULL;
}

void *guest_mem_gpa(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return translate(m, gpa, len, 0);
}

void *guest_mem_uva(const struct guest_mem *m, uint64_t uva, uint64_t len)
{
	return translate(m, uva, len, 1);
}
