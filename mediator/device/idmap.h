/* idmap.h: a map from 32-bit IDs to pointers (open addressing), for a vGPU's
 * private resource and context ID spaces. */
#ifndef VGPU_IDMAP_H
#define VGPU_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
	uint32_t *keys; /* 0 empty, UINT32_MAX deleted: IDs 0 and UINT32_MAX are never stored */
	void **vals;
	size_t cap, used, live;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
void *idmap_get(const struct idmap *m, uint32_t id);
/* Insert (id must be absent, 1..UINT32_MAX-1). 0, or -1 (no memory or bad id). */
int idmap_put(struct idmap *m, uint32_t id, void *val);
/* Remove and return the value (NULL if absent). */
void *idmap_del(struct idmap *m, uint32_t id);
/* Host memory its table takes, in bytes. */
size_t idmap_bytes(const struct idmap *m);
/* Walk every entry: *pos starts at 0; NULL when done. */
void *idmap_next(const struct idmap *m, size_t *pos, uint32_t *id);

#endif
