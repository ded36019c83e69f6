/* sched_policy.h: the GPU scheduler's policies, one list (SCHED_POLICY_LIST) for the mediator that applies them
 * (mediator/sched/gpu_sched.h states their rules) and the harness whose plans name them, with the limits a plan or
 * a --vgpu spec may give a vGPU. */
#ifndef VGPU_SCHED_POLICY_H
#define VGPU_SCHED_POLICY_H

#define SCHED_POLICY_LIST(X)                     \
	X(SCHED_BEST_EFFORT, "best-effort")      \
	X(SCHED_EQUAL_SHARE, "equal-share")      \
	X(SCHED_FIXED_SHARE, "fixed-share")      \
	X(SCHED_EQUAL_SHARE_WC, "equal-share-wc") \
	X(SCHED_FIXED_SHARE_WC, "fixed-share-wc") \
	X(SCHED_SLA, "sla")

#define SCHED_POLICY_ENUM(e, name) e,
enum sched_policy { SCHED_POLICY_LIST(SCHED_POLICY_ENUM) SCHED_NPOLICIES };
#undef SCHED_POLICY_ENUM

#define SCHED_MAX_WEIGHT 1000
#define SCHED_MAX_FPS 1000.0

/* A policy's name ("unknown" out of range). */
const char *sched_policy_name(enum sched_policy p);
/* The policy named name in *p: 0, or -1 for none. */
int sched_policy_parse(const char *name, enum sched_policy *p);
/* Every policy's name, comma-separated, for messages. */
const char *sched_policy_names(void);

#endif
