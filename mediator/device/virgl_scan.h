/* virgl_scan.h: the command scanner for virgl command streams (SUBMIT_3D).
 * The renderer's resource IDs are process-wide while each vGPU names its
 * resources with its own private IDs, so every resource handle in a stream is
 * rewritten to the host ID of the submitting vGPU's resource. A stream that
 * names a resource the vGPU does not own, runs past its end, or uses a
 * command the mediator does not offer (blob and video commands) is refused
 * whole, before anything reaches the renderer. */
#ifndef VGPU_VIRGL_SCAN_H
#define VGPU_VIRGL_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Host ID of the vGPU's resource guest_id, or 0 when it has none of that ID. */
typedef uint32_t (*vscan_lookup)(void *ctx, uint32_t guest_id);

/* Rewrite the ndw dwords of a command stream in place. 0, or -1 with the reason in why. */
int vscan_translate(uint32_t *dw, size_t ndw, vscan_lookup lookup, void *ctx, char *why, size_t whylen);

#endif
