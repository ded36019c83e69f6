/* hostile.h: what vgpu-hostile's files share (hostile.c runs the catalogue, hostile_cases.c holds it,
 * hostile_vm.c plays the VM): the VM and the back-end under test, a case, and the VM's helpers. */
#ifndef VGPU_HOSTILE_H
#define VGPU_HOSTILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frontend.h"
#include "vhost/vring.h"

#define RAM (1u << 20)

#define RING 0x1000        /* control queue: desc, avail +0x1000, used +0x2000 */

#define CURSOR_RING 0x8000 /* cursor queue */

#define QSZ 16

#define IN 0x10000

#define OUT 0x11000

#define IND 0x12000        /* an indirect table */

#define BACK 0x20000       /* backing pages */

#define ANSWER_MS 1500     /* a command's answer must come within this */

#define WORKER_WATCHDOG_MS "1000" /* the worker cases' mediator: a fence or call held this long trips its watchdog */

#define QEMU_BACKEND "/usr/lib/qemu/vhost-user-gpu" /* Debian's qemu-system-gui */

/* One VM's connection. */
struct vm {
	struct frontend fe;
	struct fe_display disp;
	int kick[2], call[2];
	uint16_t head, used;
	uint64_t proto; /* protocol features the back-end offered */
	int up;
};

/* A back-end under test. */
struct backend {
	const char *name;
	const char *exe;
	int shared;  /* one process serves the victim and a neighbour */
	int workers; /* it was started with a render worker per vGPU (vgpu-mediator only) */
	pid_t pid;
	char dir[64], log[128], victim_sock[128], neighbour_sock[128], ctl[128];
	struct vm neighbour;
	uint32_t next_id; /* the neighbour's next resource ID */
	int restarts;
	int status; /* how the process ended (waitpid), once it has */
};

struct hcase {
	const char *name, *cls;
	void (*run)(struct vm *v);
	/* A worker case (needs a back-end with render workers): 0, 1 when the neighbour stalled meanwhile, -1 when the
	 * mediator refused to inject the fault. */
	int (*run_worker)(struct backend *b, struct vm *v, char *det, size_t len);
};

#define CASE(n, k, f) { n, k, f, NULL }

#define WORKER_CASE(n, f) { n, "worker", NULL, f }

/* The catalogue, in the order it runs (hostile_cases.c). */
extern const struct hcase catalogue[];
extern const size_t catalogue_len;
#define NCASES catalogue_len

/* hostile_vm.c */
/* ---- connections ---- */

void vm_close(struct vm *v);
/* Connect to path and bring the device up the way QEMU does, with virgl when asked. 0 or -1. */
int vm_open(struct vm *v, const char *path, pid_t owner, int virgl);
/* One command (len bytes at IN, out_len writable at OUT); the response type, or 0 when none came in time. */
uint32_t vm_cmd_at(struct vm *v, const void *cmd, uint32_t len, uint32_t out_len);
uint32_t vm_cmd(struct vm *v, const void *cmd, uint32_t len);
uint32_t create(struct vm *v, uint32_t id, uint32_t w, uint32_t h);
/* Attach one backing entry (addr, len) to resource id. */
uint32_t attach(struct vm *v, uint32_t id, uint64_t addr, uint32_t len);
/* Does the vGPU serve? A resource created and unreferenced again. */
int serves(struct vm *v, uint32_t id);
/* What a driver resetting its device makes QEMU do: stop the rings, RESET_DEVICE when the back-end offered it,
 * the memory table and fresh rings again. 0 when every step was answered. */
int vm_reset(struct vm *v);
/* ---- the catalogue ---- */

/* Send raw bytes as a front-end message would go (no validation of ours in the way). */
int raw(struct vm *v, uint32_t req, uint32_t flags, uint32_t size, const void *payload, uint32_t send_len,
	const int *fds, int nfds);
/* Publish descriptor chain d[0..n) at the ring's head slot and kick. */
void post_descs(struct vm *v, const struct vring_desc *d, int n, uint16_t head);
void put_cmd(struct vm *v, uint32_t type);
/* Rings and descriptors: a valid command behind a malformed chain. */
void ring_chain(struct vm *v, struct vring_desc first, int with_out);
uint16_t next_slot(struct vm *v);

#endif
