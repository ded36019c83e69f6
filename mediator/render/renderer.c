/* renderer.c: what every renderer back-end shares (renderer.h): IDs, fence bookkeeping, and the calls that may find
 * no renderer at all. */
#include "render/renderer.h"

#include <stddef.h>

uint32_t renderer_new_res_id(struct renderer *r)
{
	if (++r->next_res == 0)
		r->next_res = 1;
	return r->next_res;
}

uint32_t renderer_new_ctx_id(struct renderer *r)
{
	if (++r->next_ctx == 0)
		r->next_ctx = 1;
	return r->next_ctx;
}

uint32_t renderer_fence(struct renderer *r, uint32_t ctx)
{
	/* virglrenderer takes an int: keep ids positive, wrapping before INT_MAX. */
	if (++r->next_fence > RENDER_FENCE_LAST)
		r->next_fence = 1;
	r->ops->fence(r, ctx, r->next_fence);
	return r->next_fence;
}

int32_t renderer_fence_since(uint32_t a, uint32_t b)
{
	/* Ids modulo the circle's size: RENDER_FENCE_LAST and 0 are the same place, just before 1. */
	const int64_t n = RENDER_FENCE_LAST;
	int64_t d = ((int64_t)(a % n) - (int64_t)(b % n) + n) % n;

	return (int32_t)(d > n / 2 ? d - n : d);
}

int renderer_fences_pending(const struct renderer *r)
{
	return r && !r->dead && r->last_done != r->next_fence; /* a dead one retires nothing more */
}

void renderer_poll(struct renderer *r)
{
	if (r)
		r->ops->poll(r);
}

void renderer_retired(struct renderer *r, uint32_t fence)
{
	r->last_done = fence;
	if (r->fence_done)
		r->fence_done(r->opaque, r, fence);
}

uint32_t renderer_num_capsets(struct renderer *r)
{
	uint32_t n = 0, id, version, size;

	while (r && r->ops->capset(r, n, &id, &version, &size) == 0)
		n++;
	return n;
}

void renderer_quiesce(struct renderer *r)
{
	if (r && r->ops->quiesce)
		r->ops->quiesce(r);
}

void renderer_close(struct renderer *r)
{
	if (r)
		r->ops->close(r);
}
