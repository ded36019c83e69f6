/* host_noise.c: CPU steal and load average from /proc (see host_noise.h). */
#define _GNU_SOURCE
#include "host/host_noise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int host_sample_parse(const char *stat, const char *loadavg, struct host_sample *s)
{
	unsigned long long v[8];
	char *end;

	memset(s, 0, sizeof(*s));
	/* "cpu  user nice system idle iowait irq softirq steal [guest guest_nice]": guest time is inside user. */
	if (!stat || !loadavg || strncmp(stat, "cpu ", 4) != 0 ||
	    sscanf(stat + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
		   &v[7]) != 8)
		return -1;
	s->load1 = strtod(loadavg, &end);
	if (end == loadavg || !isfinite(s->load1) || s->load1 < 0)
		return -1;
	for (int i = 0; i < 8; i++)
		s->total += v[i];
	s->steal = v[7];
	s->ok = 1;
	return 0;
}

void host_sample_read(struct host_sample *s)
{
	char *stat = vb_read_file_max("/proc/stat", 1 << 20, NULL), *load = vb_read_file_max("/proc/loadavg", 4096, NULL);

	if (host_sample_parse(stat, load, s) < 0)
		memset(s, 0, sizeof(*s));
	free(stat);
	free(load);
}

double host_steal_pct(const struct host_sample *a, const struct host_sample *b)
{
	if (!a->ok || !b->ok || b->total <= a->total || b->steal < a->steal)
		return NAN;
	return 100.0 * (double)(b->steal - a->steal) / (double)(b->total - a->total);
}
