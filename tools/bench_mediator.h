/* bench_mediator.h: what bench-mediator's files share (bench_mediator.c measures and prints, bench_session.c
 * drives a back-end): the back-ends and options, a result, a VM's session and the fleet of back-end processes. */
#ifndef VGPU_BENCH_MEDIATOR_H
#define VGPU_BENCH_MEDIATOR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frontend.h"
#include "host/proc_tree.h"
#include "sched/gpu_sched.h"

/* Guest-physical layout: control ring, cursor ring, command buffers, then the frame's backing. */
#define CTRL_RING 0x1000

#define CURSOR_RING 0x5000

#define QSZ 64

#define CMD_XFER 0x10000

#define CMD_FLUSH 0x11000

#define RESP_XFER 0x12000

#define RESP_FLUSH 0x13000

#define CMD_SETUP 0x20000 /* create, attach (up to 48K entries), scanout */

#define RESP_SETUP 0x18000

#define BACKING 0x100000

#define MAX_ENTRIES ((BACKING - CMD_SETUP - 64) / sizeof(struct virtio_gpu_mem_entry))

#define RESOURCE_ID 1

#define REPLY_TIMEOUT_S 5.0

struct backend {
	const char *label;
	int is_mediator;
	/* GUEST_2D: no virgl. VIRGL_DUMB: negotiate VIRTIO_GPU_F_VIRGL, the frame a 2D resource as a virgl guest's
	 * dumb buffer (the mediator keeps it in host memory). VIRGL_USED: the same, and a 3D context attaches the frame
	 * and uses it, as a guest's GL client would: the mediator then keeps it in virglrenderer, uploads on every
	 * transfer and reads back. */
	enum { GUEST_2D, VIRGL_DUMB, VIRGL_USED } virgl;
	const char *skip; /* why it cannot run here, or NULL */
	int workers;      /* vgpu-mediator --render-workers: each VM's 3D in a process of its own */
};

struct opts {
	const char *mediator, *qemu, *csv;
	double seconds, warmup;
	int reps;
	uint32_t entry_size;
	uint32_t sizes[8][2];
	int nsizes;
	int vgpus[4]; /* how many VMs at once, one measurement series each */
	int nvgpus;
	/* the scheduler mode */
	char policies[SCHED_NPOLICIES][24]; /* measure under each (none: compare back-ends) */
	int npolicies;
	int weights[8]; /* per VM (their count is the VM count) */
	int nweights;
	int hog;        /* VM 1 sends this many full-frame transfers per frame (1: like the others) */
	int display_fps; /* the mediator's --display-fps (-1: its default) */
	const char *policy; /* the one being measured */
};

#define MAX_VGPUS 16

/* One measurement: nv VMs' front-ends at once against one back-end set-up. fps, cmds and mbs are totals. */
struct result {
	double fps, cmds, mbs, p50_ms, p99_ms, cpu;
	double pss_mb; /* what the back-end's processes hold at the end (proportional set size) */
	double min_fps, max_fps, jain; /* over the VMs */
	double disp_fps;               /* display updates the display side took a second, total (frames/s times
					* the share of the frames it took) */
	/* the scheduler mode, per VM over the measured time */
	double vm_fps[MAX_VGPUS], gpu_ms[MAX_VGPUS], held_ms[MAX_VGPUS], share[MAX_VGPUS];
	char error[256];               /* set when the measurement failed */
};

/* ---- the display side (QEMU's end of VHOST_USER_GPU_SET_SOCKET) ---- */

struct display {
	int fd;
	uint8_t *last;  /* pixels of the last full-frame update */
	size_t cap;     /* bytes last can hold */
	uint32_t w, h;  /* the frame size */
	uint64_t updates, bytes;
	uint32_t scanout_w, scanout_h;
	char error[160];
	volatile int stop;
	pthread_mutex_t lock;
};

/* ---- one session: one VM's connection to a back-end, and its frame ---- */

struct session {
	struct frontend fe;
	pid_t pid; /* the process serving it */
	int kick[2], call[2];
	uint16_t head, used;
	struct display disp;
	pthread_t thr;
	int thr_up, fe_up;
	const char *sock, *log;
	uint32_t w, h;
};

/* The back-end processes of one measurement: one vgpu-mediator for every VM, or one QEMU back-end per VM. */
struct fleet {
	pid_t pid[MAX_VGPUS];
	int npid;
	char dir[64];
	char sock[MAX_VGPUS][96], log[MAX_VGPUS][96];
	char control[96]; /* the mediator's control socket, in the scheduler mode */
};

/* What the mediator's control socket says of each VM's scheduling. */
struct sched_snap {
	double gpu_ms, held_ms, share;
};

#define MAX_HOG 16

/* One VM's driver: warm up, wait for every VM to be ready, then frames for the measured time. */
struct worker {
	struct session s;
	const struct opts *o;
	int xfers; /* transfers per frame: more for the hog */
	int *ready, *go; /* VMs warmed up; set once all are: the measured time starts */
	struct result r;
	long warm, frames;
	double elapsed;
	double *times;
	size_t ntimes;
};

/* bench_session.c */
int fail(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fleet_start(struct fleet *f, const struct opts *o, const struct backend *b, int nv, struct result *r);
/* Ask the control socket for its counters and read vm0..vm(nv-1). 0, or -1. */
int sched_snapshot(const char *control, int nv, struct sched_snap *out);
/* Stop the back-ends (QEMU's exits when its one front-end goes; the mediator is told) and note a crash. */
void fleet_end(struct fleet *f, int is_mediator, struct result *r);
int session_connect(struct session *s, struct result *r);
/* Negotiate the way QEMU does, hand over the display channel, share RAM, set up both queues. */
int bring_up(struct session *s, const struct backend *b, struct result *r);
/* The guest's frame: a resource, its backing in page-sized (entry_size) pieces, scanout 0 showing it. */
int set_up_frame(struct session *s, const struct opts *o, const struct backend *b, struct result *r);
/* CPU seconds used so far by all of the fleet's processes and theirs (a mediator's render workers). */
double fleet_cpu(const struct fleet *f);
/* MiB the fleet's processes and theirs hold now (proportional set size: shared pages split among their users). */
double fleet_pss(const struct fleet *f);
int cmp_double(const void *a, const void *b);
uint64_t display_updates(struct display *d);
int check_display(struct session *s, struct result *r, long frames, int every_flush);
void session_end(struct session *s);
void *worker_main(void *arg);

#endif
