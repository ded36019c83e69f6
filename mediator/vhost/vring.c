/* vring.c: device side of a split virtqueue, hardened against the guest.
 * Checks, all from docs/design.md ("What a shared back-end must survive") and the virtio 1.2 split-ring rules:
 * avail index never trusted beyond last_seen + queue size and read with one
 * 16-bit load; heads and next fields in range; chains without loops (at most
 * num links, or the indirect table's size); INDIRECT not combined with NEXT
 * and never nested; indirect tables of whole descriptors inside guest RAM;
 * no zero-length buffer; every buffer inside guest RAM; readable buffers
 * before writable ones; a chain's total length below 2^32. */
#define _GNU_SOURCE
#include "vhost/vring.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2
#define VRING_AVAIL_F_NO_INTERRUPT 1

static int fail(struct vring *vr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct vring *vr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vr->why, sizeof(vr->why), fmt, ap);
	va_end(ap);
	vr->broken = 1;
	return -1;
}

int vring_setup(struct vring *vr, const struct guest_mem *m, uint16_t num, uint64_t desc, uint64_t avail,
		uint64_t used, int event_idx)
{
	memset(vr, 0, sizeof(*vr));
	vr->event_idx = event_idx;
	if (num == 0 || (num & (num - 1)) != 0)
		return fail(vr, "queue size %u is not a power of 2", num);
	if ((desc & 15) || (avail & 1) || (used & 3))
		return fail(vr, "misaligned ring (desc 0x%llx, avail 0x%llx, used 0x%llx)", (unsigned long long)desc,
			    (unsigned long long)avail, (unsigned long long)used);
	vr->num = num;
	vr->desc = guest_mem_uva(m, desc, 16ull * num);
	vr->avail = guest_mem_uva(m, avail, 6ull + 2ull * num);
	vr->used = guest_mem_uva(m, used, 6ull + 8ull * num);
	if (!vr->desc || !vr->avail || !vr->used)
		return fail(vr, "ring (%u entries) is not inside guest memory", num);
	/* The avail and used rings are read and written with atomic 16-bit accesses. */
	if (((uintptr_t)vr->avail & 1) || ((uintptr_t)vr->used & 3))
		return fail(vr, "ring is misaligned in the shared memory mapping");
	return 0;
}

static uint16_t load16(const uint16_t *p)
{
	/* One 16-bit load: the guest may change the value under us. */
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Copy one descriptor out of guest memory: the guest cannot change it under the checks. */
static void read_desc(const uint8_t *table, uint32_t i, struct vring_desc *d)
{
	memcpy(d, table + (size_t)i * sizeof(*d), sizeof(*d));
}

static int add_seg(struct vring *vr, const struct guest_mem *m, struct vring_req *req, const struct vring_desc *d,
		   int *seen_write)
{
	void *p;

	if (d->len == 0)
		return fail(vr, "zero-length buffer in chain %u", req->head);
	p = guest_mem_gpa(m, d->addr, d->len);
	if (!p)
		return fail(vr, "buffer 0x%llx+%u of chain %u is outside guest memory", (unsigned long long)d->addr,
			    d->len, req->head);
	if (d->flags & VRING_DESC_F_WRITE) {
		*seen_write = 1;
		if (req->nout == VRING_MAX_SEGS)
			return fail(vr, "chain %u has more than %d writable buffers", req->head, VRING_MAX_SEGS);
		req->out[req->nout++] = (struct iovec){ p, d->len };
		req->out_len += d->len;
	} else {
		if (*seen_write)
			return fail(vr, "chain %u has a readable buffer after a writable one", req->head);
		if (req->nin == VRING_MAX_SEGS)
			return fail(vr, "chain %u has more than %d readable buffers", req->head, VRING_MAX_SEGS);
		req->in[req->nin++] = (struct iovec){ p, d->len };
		req->in_len += d->len;
	}
	if (req->in_len + req->out_len > UINT32_MAX)
		return fail(vr, "chain %u is longer than 4 GiB", req->head);
	return 0;
}

/* Walk the chain in an indirect table. */
static int walk_indirect(struct vring *vr, const struct guest_mem *m, struct vring_req *req,
			 const struct vring_desc *ind, int *seen_write)
{
	const uint8_t *table;
	uint32_t count, i = 0, links = 0;
	struct vring_desc d;

	if (ind->len == 0 || ind->len % sizeof(struct vring_desc))
		return fail(vr, "indirect table of chain %u has length %u, not a whole number of descriptors", req->head,
			    ind->len);
	table = guest_mem_gpa(m, ind->addr, ind->len);
	if (!table)
		return fail(vr, "indirect table 0x%llx+%u of chain %u is outside guest memory",
			    (unsigned long long)ind->addr, ind->len, req->head);
	count = ind->len / sizeof(struct vring_desc);
	for (;;) {
		if (++links > count)
			return fail(vr, "indirect chain %u loops", req->head);
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return fail(vr, "nested indirect table in chain %u", req->head);
		if (add_seg(vr, m, req, &d, seen_write) < 0)
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= count)
			return fail(vr, "indirect chain %u: next %u is past the table (%u entries)", req->head, d.next,
				    count);
		i = d.next;
	}
}

int vring_pop(struct vring *vr, const struct guest_mem *m, struct vring_req *req)
{
	uint16_t avail_idx, pending, head;
	uint32_t i, links = 0;
	int seen_write = 0;
	struct vring_desc d;

	if (vr->broken)
		return -1;
	avail_idx = load16(&vr->avail[AVAIL_IDX]);
	pending = (uint16_t)(avail_idx - vr->last_avail);
	if (pending == 0 && vr->event_idx) {
		/* Ask for a kick at the next request (avail_event, §2.7.10), then look again: a request the
		 * driver made available before it saw the new avail_event gets no kick of its own. */
		__atomic_store_n((uint16_t *)(vr->used + 4 + 8u * vr->num), vr->last_avail, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load16(&vr->avail[AVAIL_IDX]);
		pending = (uint16_t)(avail_idx - vr->last_avail);
	}
	if (pending == 0)
		return 0;
	if (pending > vr->num)
		return fail(vr, "avail index jumped by %u on a queue of %u", pending, vr->num);
	head = load16(&vr->avail[AVAIL_RING + vr->last_avail % vr->num]);
	if (head >= vr->num)
		return fail(vr, "head %u is past the queue (%u entries)", head, vr->num);
	memset(req, 0, sizeof(*req));
	req->head = head;
	i = head;
	for (;;) {
		if (++links > vr->num)
			return fail(vr, "chain %u loops", head);
		read_desc(vr->desc, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (d.flags & VRING_DESC_F_NEXT)
				return fail(vr, "chain %u: an indirect descriptor with NEXT set", head);
			if (walk_indirect(vr, m, req, &d, &seen_write) < 0)
				return -1;
			break;
		}
		if (add_seg(vr, m, req, &d, &seen_write) < 0)
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= vr->num)
			return fail(vr, "chain %u: next %u is past the queue (%u entries)", head, d.next, vr->num);
		i = d.next;
	}
	vr->last_avail++;
	return 1;
}

void vring_unpop(struct vring *vr)
{
	vr->last_avail--;
}

void vring_push(struct vring *vr, uint16_t head, uint32_t written)
{
	uint8_t *elem = vr->used + 4 + 8u * (vr->used_idx % vr->num);
	uint32_t id = head;
	uint16_t next = (uint16_t)(vr->used_idx + 1);

	memcpy(elem, &id, 4);
	memcpy(elem + 4, &written, 4);
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n((uint16_t *)(vr->used + 2), next, __ATOMIC_RELEASE);
	vr->used_idx = next;
}

int vring_should_notify(struct vring *vr)
{
	uint16_t old, new = vr->used_idx, event;
	int valid;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vr->event_idx)
		return !(load16(&vr->avail[AVAIL_FLAGS]) & VRING_AVAIL_F_NO_INTERRUPT);
	old = vr->signalled_used;
	valid = vr->signalled_valid;
	vr->signalled_used = new;
	vr->signalled_valid = 1;
	if (!valid)
		return 1;
	event = load16(&vr->avail[AVAIL_RING + vr->num]); /* used_event */
	/* virtio 1.2 §2.7.10: notify when used_event lies in [old, new). */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

int vring_unheard(const struct vring *vr, uint64_t *state)
{
	uint16_t event, avail_idx;

	if (!vr->event_idx || !vr->avail || vr->broken)
		return 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = load16(&vr->avail[AVAIL_RING + vr->num]);
	/* Asked of an entry in [used_idx - num, used_idx): used, not read. A driver that turned signals off writes an
	 * index far behind (Linux writes 0), outside that window once the ring has gone round. */
	if ((uint16_t)(vr->used_idx - event - 1) >= vr->num)
		return 0;
	avail_idx = load16(&vr->avail[AVAIL_IDX]);
	*state = (uint64_t)event << 32 | (uint64_t)avail_idx << 16 | vr->used_idx;
	return 1;
}
