/* guest_mem.h: one vGPU's view of its guest's RAM, as the front-end shares it
 * with SET_MEM_TABLE (vhost-user): memfd regions mapped into the mediator,
 * with overflow-safe translation of guest-physical and front-end virtual
 * addresses. Nothing outside a region is ever reachable. */
#ifndef VGPU_GUEST_MEM_H
#define VGPU_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 8 /* VHOST_MEMORY_BASELINE_NREGIONS */

struct guest_region {
	uint64_t gpa;  /* guest physical address */
	uint64_t size;
	uint64_t uva;  /* the front-end's (QEMU's) virtual address */
	uint64_t mmap_offset;
	uint64_t dev, ino; /* the file it maps (fstat), to know the same table when it comes again */
	uint8_t *host; /* our mapping of [mmap_offset, mmap_offset + size) */
	void *map_base;
	size_t map_len;
};

struct guest_mem {
	struct guest_region r[GUEST_MEM_MAX_REGIONS];
	int n;
};

/*
 * Map a region from fd (the caller keeps fd; a duplicate goes into the table of
 * memory a render worker may map too, shared_mem.h). The region must fit in the file
 * (checked with fstat first: touching past its end would raise SIGBUS), must
 * not be empty, must not wrap the 64-bit space and must not overlap another.
 * 0, or -1 with a message in err.
 */
int guest_mem_add(struct guest_mem *m, int fd, uint64_t gpa, uint64_t size, uint64_t uva, uint64_t mmap_offset,
		  char *err, size_t errlen);

/* 1 when b maps exactly what a maps (same files, offsets and addresses, in the same order): a front-end
 * that sends its table again on every ring start (QEMU on resume) changes nothing. */
int guest_mem_same(const struct guest_mem *a, const struct guest_mem *b);

/* Unmap every region. */
void guest_mem_clear(struct guest_mem *m);

/* Host pointer to [gpa, gpa + len) when it lies inside one region, else NULL. len must be > 0. */
void *guest_mem_gpa(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* The same for a front-end virtual address (vring addresses come this way). */
void *guest_mem_uva(const struct guest_mem *m, uint64_t uva, uint64_t len);

#endif
