/* guest_fixture.h: what every test that boots a guest checks first: QEMU 10 or newer, a guest kernel, and the
 * accelerator chosen the way a run chooses it (a boot probe cached next to the agent, VGPUBENCH_ACCEL winning). */
#ifndef VGPUBENCH_GUEST_FIXTURE_H
#define VGPUBENCH_GUEST_FIXTURE_H

#include <libgen.h>
#include <stdlib.h>

#include "check.h"
#include "host/hostcheck.h"
#include "util.h"

/* Probe the host into h and choose its accelerator; agent is the vgpu-agent binary (the probe's cache lives
 * beside it). 0, or -1 after failed checks. */
static inline int guest_host_ready(struct host *h, const char *agent)
{
	char err[512] = "";
	char *agent_dir, *cache;

	host_probe(h);
	CHECK(h->qemu_major >= 10, "QEMU 10 or newer (found '%s')", h->qemu_version);
	CHECK(h->guest_kernel[0] != '\0', "a guest kernel is installed");
	if (check_failed)
		return -1;
	agent_dir = vb_strdup(agent);
	cache = vb_strdupf("%s/accel-probe.json", dirname(agent_dir));
	CHECK(host_choose_accel(h, ACCEL_AUTO, cache, err, sizeof(err)) == 0, "accelerator: %s", err);
	free(cache);
	free(agent_dir);
	return check_failed ? -1 : 0;
}

#endif
