/* idmap.c: open-addressing u32 -> pointer map with linear probing. */
#include "device/idmap.h"

#include <stdlib.h>

#define DELETED UINT32_MAX

void idmap_init(struct idmap *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->used = m->live = 0;
}

void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	idmap_init(m);
}

static size_t slot_of(uint32_t id, size_t cap)
{
	return (size_t)((id * 2654435761u) & (cap - 1));
}

void *idmap_get(const struct idmap *m, uint32_t id)
{
	if (!m->cap || id == 0 || id == DELETED)
		return NULL;
	for (size_t i = slot_of(id, m->cap), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		if (m->keys[i] == 0)
			return NULL;
		if (m->keys[i] == id)
			return m->vals[i];
	}
	return NULL;
}

static int grow(struct idmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	uint32_t *keys = calloc(cap, sizeof(*keys));
	void **vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		uint32_t k = m->keys[i];
		size_t j;

		if (k == 0 || k == DELETED)
			continue;
		for (j = slot_of(k, cap); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = k;
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	m->used = m->live;
	return 0;
}

int idmap_put(struct idmap *m, uint32_t id, void *val)
{
	size_t i;

	if (id == 0 || id == DELETED || idmap_get(m, id))
		return -1;
	if ((m->used + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return -1;
	for (i = slot_of(id, m->cap); m->keys[i] != 0 && m->keys[i] != DELETED; i = (i + 1) & (m->cap - 1))
		;
	if (m->keys[i] == 0)
		m->used++;
	m->keys[i] = id;
	m->vals[i] = val;
	m->live++;
	return 0;
}

void *idmap_del(struct idmap *m, uint32_t id)
{
	if (!m->cap || id == 0 || id == DELETED)
		return NULL;
	for (size_t i = slot_of(id, m->cap), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		if (m->keys[i] == 0)
			return NULL;
		if (m->keys[i] == id) {
			void *v = m->vals[i];

			m->keys[i] = DELETED;
			m->vals[i] = NULL;
			m->live--;
			return v;
		}
	}
	return NULL;
}

void *idmap_next(const struct idmap *m, size_t *pos, uint32_t *id)
{
	for (; *pos < m->cap; (*pos)++) {
		uint32_t k = m->keys[*pos];

		if (k != 0 && k != DELETED) {
			void *v = m->vals[*pos];

			if (id)
				*id = k;
			(*pos)++;
			return v;
		}
	}
	return NULL;
}

size_t idmap_bytes(const struct idmap *m)
{
	return m->cap * (sizeof(*m->keys) + sizeof(*m->vals));
}
