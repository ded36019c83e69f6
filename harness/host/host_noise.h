/* host_noise.h: what else the host was doing while a repetition ran, read
 * from /proc before and after it: CPU steal time (time the hypervisor gave
 * the host's vCPUs to other tenants: on a shared machine the first suspect
 * of a noisy number) and the 1-minute load average. The runner redoes a
 * repetition whose steal passed the plan's bound ([noise] max_steal_pct)
 * and stores what it saw with every job (job_noise). */
#ifndef VGPUBENCH_HOST_NOISE_H
#define VGPUBENCH_HOST_NOISE_H

struct host_sample {
	int ok;                          /* both files read and understood */
	unsigned long long total, steal; /* clock ticks over every CPU: all states, and steal (/proc/stat "cpu") */
	double load1;                    /* /proc/loadavg's first figure */
};

/* From the texts of /proc/stat and /proc/loadavg. 0, or -1 (s->ok stays 0) when either is not understood. */
int host_sample_parse(const char *stat, const char *loadavg, struct host_sample *s);

/* The same from /proc now. */
void host_sample_read(struct host_sample *s);

/* Percent of the CPU time between two samples that was stolen, or NAN when either sample is missing or no time
 * passed. */
double host_steal_pct(const struct host_sample *before, const struct host_sample *after);

#endif
