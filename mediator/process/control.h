/* control.h: the mediator's control socket: its counters as JSON, and the
 * requests it takes. One request per connection: the client writes one line
 * and reads the answer to EOF. A client that writes nothing (or only shuts
 * its side down) gets the counters, so `socat - UNIX:…` or a plain connect
 * and read still work:
 *   stats                          the counters (also an empty line)
 *   policy NAME                    best-effort | equal-share | fixed-share | equal-share-wc |
 *                                  fixed-share-wc | sla
 *   timeslice MS                   1..1000
 *   set VGPU weight=N fps=F ...    a vGPU's fixed-share weight, SLA target (0: none)
 *   watchdog MS [report|quarantine] the stuck-renderer watchdog's bound (0: off) and action
 * Every request but stats is answered {"ok":true} or {"ok":false,"error":…}. */
#ifndef VGPU_CONTROL_H
#define VGPU_CONTROL_H

#include <stddef.h>

#include "device/gpu_device.h"
#include "render/renderer.h"

struct sched;
struct sched_vgpu;
struct watchdog;

/* A vGPU's resets and recoveries, kept across its connections. */
struct vgpu_health {
	uint64_t resets;          /* device resets (the driver reset the device: state dropped) */
	uint64_t resumes;         /* rings stopped and restarted where they were (a pause: state kept) */
	uint64_t ring_stops;      /* GET_VRING_BASE */
	uint64_t recoveries;      /* a broken vGPU served again after its rings restarted */
	double last_reset_s;      /* mediator uptime of the last reset, negative for never */
	char last_reset[160];     /* why the last reset was known, and what it dropped */
	uint64_t drain_ms_max;    /* the longest a stopping ring held the loop to finish its fences */
	uint64_t drain_timeouts;  /* rings stopped with fences still unfinished after the bound */
	uint64_t resignals;       /* signals sent again to a driver that waited unheard (a lost interrupt) */
};

/* A vGPU's render workers (--render-workers), kept across them. */
struct vgpu_worker_log {
	uint64_t started;         /* workers started for it */
	uint64_t died;            /* ... that died, or were cut off or killed */
	char last_exit[128];      /* why the last one was lost */
	char last_status[64];     /* how its process ended ("signal 11 (Segmentation fault)") */
	struct render_worker_info now; /* the current one's counters, as of the snapshot (pid 0: none) */
};

struct control_vgpu {
	const char *name;
	const struct sched_vgpu *sv; /* the scheduler's accounting of it */
	double share;                /* its share under the policy now, negative for none */
	int connected;
	uint64_t connects;
	const struct gpu_device *gd; /* NULL when not connected */
	const char *why;             /* why it last disconnected or broke, "" if never */
	int broken;                  /* a ring is broken: not served until the front-end restarts it */
	const struct vgpu_health *h;
	const struct watchdog *wd;   /* its stuck-renderer watchdog */
	const struct vgpu_worker_log *wl; /* its render workers, NULL when it has none */
	/* A vtest endpoint (dom0's GL clients, vtest_dev.h): the vGPU's counters are its clients' summed, those gone
	 * included, and each client connected now is listed under it with its own. */
	int vtest;                          /* 1 an endpoint, 2 one of its clients */
	const char *program;                /* a client: the program its create_renderer named */
	int protocol;                       /* a client: the protocol version agreed */
	uint64_t shm_bytes;                 /* a client: shared memory it holds */
	uint64_t dropped;                   /* an endpoint: clients dropped for breaking the protocol (why: the last) */
	const struct control_vgpu *clients; /* an endpoint: its clients connected now */
	size_t nclients;
};

/* The snapshot as a malloc'd JSON string (NULL without memory). */
char *control_json(const struct control_vgpu *v, size_t n, const struct sched *s, double uptime_s);

enum control_op { CTL_STATS, CTL_POLICY, CTL_TIMESLICE, CTL_SET, CTL_WATCHDOG, CTL_FAULT };

/* Faults a test injects into a vGPU's render worker (`fault VGPU WHAT`; only under --test-faults). */
enum control_fault { FAULT_WORKER_CRASH, FAULT_WORKER_STOP, FAULT_WORKER_CONT, FAULT_WORKER_DELAY };

#define CONTROL_MAX_LINE 512

struct control_req {
	enum control_op op;
	int policy;          /* CTL_POLICY: an enum sched_policy */
	long timeslice_ms;   /* CTL_TIMESLICE */
	char vgpu[64];       /* CTL_SET, CTL_FAULT */
	long weight;         /* CTL_SET: 0 when not given */
	double fps;          /* CTL_SET: negative when not given */
	long watchdog_ms;    /* CTL_WATCHDOG: the bound, 0 off */
	int watchdog_action; /* CTL_WATCHDOG: 1 quarantine, 0 report, -1 unchanged */
	enum control_fault fault; /* CTL_FAULT */
	long delay_ms;       /* CTL_FAULT worker-delay=MS: how long the vGPU's next worker waits before READY */
};

/* Parse one request line (its newline optional). 0, or -1 with the reason in err. */
int control_parse(const char *line, struct control_req *r, char *err, size_t errlen);

/* {"ok":true} or {"ok":false,"error":why} (malloc'd, NULL without memory). */
char *control_answer(const char *why);

#endif
