/* nested_lab.h: the passthrough path proven on a host without an IOMMU or a
 * spare GPU (docs/lab-hosts.md, "The nested lab"). The lab host is a guest of this run, shaped by
 * the passthrough configuration (gpu_backend.h: q35, an emulated VT-d IOMMU,
 * a virtio GPU behind a PCIe root port, and the plan it runs). Through its
 * agent this runs the same vgpubench binary inside it with that plan, so the
 * lab host binds its GPU to vfio-pci and its own guest owns it; meanwhile it
 * watches the outermost display for the frame that innermost guest draws;
 * afterwards it reads the inner run's journal and the device's driver, and
 * brings the inner run's jobs into this run (the inner run's JSON export,
 * imported), marked as the lab's: they prove the path, not the speed. */
#ifndef VGPUBENCH_NESTED_LAB_H
#define VGPUBENCH_NESTED_LAB_H

#include <stddef.h>

#include "vm/agent_client.h"
#include "store/store.h"

struct nested_lab {
	/* in */
	const char *dir;       /* the topology's folder here (the inner run's log, the screen dumps) */
	const char *results;   /* the results folder the store's log paths are relative to */
	const char *plan;      /* the plan file the lab host runs (the same path there: it sees this host's root) */
	const char *vgpubench; /* this binary (the same path there) */
	const char *qmp;       /* the lab host's QMP socket: its display is the outermost one */
	double timeout_s;      /* for the whole inner run */
	/* out */
	char inner_run[64];    /* the inner run's id */
	char device[16];       /* the GPU the inner run bound, from its journal */
	char driver_before[32];/* its driver before, from the journal */
	char driver_after[32]; /* and after the inner run ("none" when unbound) */
	int bound, restored;   /* the journal's bind and restored lines for it */
	int frame_seen, frame_w, frame_h; /* kms2d's full-screen frame reached the outermost display */
	double frame_s;                   /* seconds into the inner run */
	int jobs, jobs_ok, kms_ok;        /* inner jobs brought back, ok, and ok kms2d ones */
};

/*
 * Run the lab: 0 when the inner run ran and its jobs are in this run's store
 * (st, run) under config `config` with `topology` guests, whatever their
 * status (the verdict below says whether the path is proven; when it is not,
 * every job brought back is stored failed with that reason); -1 with why in
 * err, nothing stored.
 */
int nested_lab_run(struct nested_lab *lab, struct agent_conn *host, struct store *st, const char *run,
		   const char *config, int topology, const char *accel, char *err, size_t errlen);

/* NULL when the evidence proves the passthrough path, else what is missing (in buf). */
const char *nested_lab_verdict(const struct nested_lab *lab, char *buf, size_t len);

/* The lab's evidence in one line, for the run's facts and the report. */
void nested_lab_evidence(const struct nested_lab *lab, char *buf, size_t len);

#endif
