/* accel.c: the accelerator decision (see accel.h): overrides first, then the
 * cached verdict, then a boot probe of the real guest kernel under KVM. */
#define _GNU_SOURCE
#include "host/accel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "util.h"

#define BANNER	"Linux version "
#define POLL_US 50000
/* A verdict is a few hundred bytes: anything larger is no cache of ours. */
#define ACCEL_CACHE_MAX (64 * 1024)

static const char *const mode_names[] = {
    [ACCEL_AUTO] = "auto",
    [ACCEL_KVM] = "kvm",
    [ACCEL_TCG] = "tcg",
};

int accel_mode_parse(const char *s, enum accel_mode *out)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (s && strcmp(s, mode_names[i]) == 0) {
			*out = (enum accel_mode)i;
			return 0;
		}
	return -1;
}

const char *accel_mode_name(enum accel_mode m)
{
	return (size_t)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : "?";
}

/* The last non-empty line of console text, printable and at most 120 characters, into out. */
static void last_line(const char *text, char *out, size_t len)
{
	const char *end = text + strlen(text), *start;
	size_t n, k = 0;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	n = (size_t)(end - start);
	if (n > 120)
		start = end - 120;
	for (const char *p = start; p < end && k + 1 < len; p++)
		if (*p != '\r')
			out[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	out[k] = '\0';
}

/* A signal a process dies of by its own fault (an abort, a bad access), not one another process sends to end it. */
static int crash_signal(int sig)
{
	return sig == SIGABRT || sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP ||
	       sig == SIGSYS;
}

/* Kill the probe's QEMU and everything in its process group, and reap it. */
static void kill_probe(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void remove_probe_dir(char *dir, const char *serial, const char *log)
{
	unlink(serial);
	unlink(log);
	if (rmdir(dir) < 0)
		vb_err("accel probe: cannot remove %s: %s", dir, strerror(errno));
}

enum accel_probe_result accel_boot_probe(const char *qemu, const char *accel, const char *kernel, double timeout_s,
					 char *why, size_t whylen)
{
	const char *tmpdir = getenv("TMPDIR");
	char dir[256], serial[300], log[300], *serial_arg;
	enum accel_probe_result res = ACCEL_PROBE_ERROR;
	int is_kvm = strcmp(accel, "kvm") == 0;
	pid_t pid;
	int status;

	why[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/vgpubench-accel-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(why, whylen, "cannot create a folder for the probe (%s): %s", dir, strerror(errno));
		return ACCEL_PROBE_ERROR;
	}
	snprintf(serial, sizeof(serial), "%s/serial.log", dir);
	snprintf(log, sizeof(log), "%s/qemu.log", dir);
	serial_arg = vb_strdupf("file:%s", serial);
	char *argv[] = {(char *)qemu, "-nodefaults", "-no-user-config", "-no-reboot", "-machine", "pc", "-accel",
			(char *)accel, "-cpu", is_kvm ? "host" : "qemu64", "-smp", "1", "-m", "256", "-kernel",
			(char *)kernel,
			/* Nothing past the banner matters: no initramfs, no root, panic exits. */
			"-append", "console=ttyS0 earlyprintk=serial,ttyS0 ignore_loglevel panic=-1", "-serial",
			serial_arg, "-monitor", "none", "-display", "none", NULL};
	double t0 = vb_now();

	pid = vb_spawn(argv, NULL, log);
	free(serial_arg);
	if (pid < 0) {
		snprintf(why, whylen, "cannot start %s: %s", qemu, strerror(errno));
		remove_probe_dir(dir, serial, log);
		return ACCEL_PROBE_ERROR;
	}
	for (;;) {
		size_t len = 0;
		char *text = vb_read_file(serial, &len);
		int booted = text && strstr(text, BANNER);
		pid_t w = waitpid(pid, &status, WNOHANG);
		char seen[128] = "";

		if (text)
			last_line(text, seen, sizeof(seen));
		free(text);
		if (booted) {
			res = ACCEL_PROBE_BOOTED;
			if (w != pid)
				kill_probe(pid);
			break;
		}
		if (w == pid) {
			char *qlog = vb_read_file(log, &len);
			char first[160] = "";

			if (qlog) {
				qlog[strcspn(qlog, "\n")] = '\0';
				last_line(qlog, first, sizeof(first));
			}
			free(qlog);
			if (WIFSIGNALED(status))
				snprintf(why, whylen,
					 "QEMU -accel %s died of signal %d (%s) before the kernel's banner: %s", accel,
					 WTERMSIG(status), strsignal(WTERMSIG(status)),
					 first[0] ? first : "no message");
			else
				snprintf(why, whylen,
					 "QEMU -accel %s exited (status %d) before the kernel's banner: %s", accel,
					 WEXITSTATUS(status), first[0] ? first : "no message");
			res = WIFSIGNALED(status) && crash_signal(WTERMSIG(status)) ? ACCEL_PROBE_CRASHED
										    : ACCEL_PROBE_EXITED;
			break;
		}
		if (vb_stop_requested) {
			kill_probe(pid);
			snprintf(why, whylen, "the probe was interrupted");
			break;
		}
		if (vb_now() - t0 >= timeout_s) {
			kill_probe(pid);
			if (seen[0])
				snprintf(why, whylen, "no kernel banner within %.0f s; the console stopped at '%s'",
					 timeout_s, seen);
			else
				snprintf(why, whylen, "no console output at all within %.0f s", timeout_s);
			res = ACCEL_PROBE_SILENT;
			break;
		}
		usleep(POLL_US);
	}
	remove_probe_dir(dir, serial, log);
	return res;
}

/* What the cached verdict depends on. */
static char *cache_key(const struct accel_query *q, int pvm)
{
	struct utsname u;
	struct stat st;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	if (stat(q->guest_kernel, &st) < 0)
		memset(&st, 0, sizeof(st));
	return vb_strdupf("host kernel %s %s; qemu %s %s; guest kernel %s %lld %lld; kvm_pvm %d", u.release, u.version,
			  q->qemu, q->qemu_version ? q->qemu_version : "?", q->guest_kernel, (long long)st.st_size,
			  (long long)st.st_mtime, pvm);
}

/* The cached verdict for key into v. 1 found, 0 not (absent, unreadable, another key, malformed). */
static int cache_read(const char *path, const char *key, struct accel_verdict *v)
{
	struct json_object *root, *k, *a, *r;
	int found = 0;
	char *text;

	if (!path || access(path, F_OK) < 0)
		return 0;
	/* A FIFO, /dev/zero or a huge file there is no verdict: refused by type and size, never waited on. */
	text = vb_read_file_max(path, ACCEL_CACHE_MAX, NULL);
	root = text ? json_tokener_parse(text) : NULL;
	free(text);
	if (root && json_object_object_get_ex(root, "key", &k) && json_object_object_get_ex(root, "accel", &a) &&
	    json_object_object_get_ex(root, "reason", &r) && json_object_is_type(k, json_type_string) &&
	    json_object_is_type(a, json_type_string) && json_object_is_type(r, json_type_string) &&
	    strcmp(json_object_get_string(k), key) == 0) {
		const char *acc = json_object_get_string(a);

		if (strcmp(acc, "kvm") == 0 || strcmp(acc, "tcg") == 0) {
			snprintf(v->accel, sizeof(v->accel), "%s", acc);
			snprintf(v->reason, sizeof(v->reason), "%s", json_object_get_string(r));
			found = 1;
		}
	}
	if (!found)
		vb_log("accel: the cached verdict in %s is for another host, QEMU or kernel (or unreadable); probing "
		       "again",
		       path);
	json_object_put(root);
	return found;
}

static void cache_write(const char *path, const char *key, const struct accel_verdict *v)
{
	struct json_object *root = json_object_new_object();
	char when[32];
	const char *s;

	if (!path) {
		json_object_put(root);
		return;
	}
	vb_utc_iso(when, sizeof(when));
	json_object_object_add(root, "key", json_object_new_string(key));
	json_object_object_add(root, "accel", json_object_new_string(v->accel));
	json_object_object_add(root, "reason", json_object_new_string(v->reason));
	json_object_object_add(root, "probed_at", json_object_new_string(when));
	json_object_object_add(root, "probe_s", json_object_new_double(v->probe_s));
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	if (vb_write_file(path, s, strlen(s)) < 0)
		vb_err("accel: cannot cache the verdict in %s: %s (the probe will run again next time)", path,
		       strerror(errno));
	json_object_put(root);
}

static void set_verdict(struct accel_verdict *v, const char *accel, const char *how, const char *reason)
{
	snprintf(v->accel, sizeof(v->accel), "%s", accel);
	snprintf(v->how, sizeof(v->how), "%s", how);
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
}

int accel_decide(const struct accel_query *q, struct accel_verdict *v, char *err, size_t errlen)
{
	const char *dev = q->kvm_device ? q->kvm_device : "/dev/kvm";
	const char *source = q->mode_source ? q->mode_source : accel_mode_name(q->mode);
	double timeout = q->timeout_s > 0 ? q->timeout_s : ACCEL_PROBE_TIMEOUT_S;
	int pvm = access(q->pvm_module ? q->pvm_module : "/sys/module/kvm_pvm", F_OK) == 0;
	char why[384], reason[512];
	int fd;

	memset(v, 0, sizeof(*v));
	v->probe_s = -1;
	if (q->mode == ACCEL_TCG) {
		snprintf(reason, sizeof(reason), "TCG chosen by %s", source);
		set_verdict(v, "tcg", "forced", reason);
		return 0;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(reason, sizeof(reason), "%s %s", dev, errno == ENOENT ? "is absent" : "cannot be opened: ");
		if (errno != ENOENT)
			strncat(reason, strerror(errno), sizeof(reason) - strlen(reason) - 1);
		if (q->mode == ACCEL_KVM) {
			snprintf(err, errlen, "KVM was asked for by %s, but %s", source, reason);
			return -1;
		}
		set_verdict(v, "tcg", "no-device", reason);
		return 0;
	}
	close(fd);

	char *key = cache_key(q, pvm);

	if (cache_read(q->cache_path, key, v)) {
		snprintf(v->how, sizeof(v->how), "cache");
		vb_log("accel: %s (cached in %s)", v->accel, q->cache_path);
	} else {
		vb_log("accel: %s opens; booting %s under KVM to see whether it runs (up to %.0f s)", dev,
		       q->guest_kernel, timeout);
		double t0 = vb_now();
		enum accel_probe_result r =
		    accel_boot_probe(q->qemu, "kvm", q->guest_kernel, timeout, why, sizeof(why));

		v->probe_s = vb_now() - t0;
		snprintf(v->how, sizeof(v->how), "probe");
		if (r == ACCEL_PROBE_ERROR && (vb_stop_requested || q->mode == ACCEL_KVM)) {
			snprintf(err, errlen, "the KVM boot probe did not run: %s", why);
			free(key);
			return -1;
		}
		if (r == ACCEL_PROBE_ERROR) {
			snprintf(v->accel, sizeof(v->accel), "tcg");
			snprintf(v->reason, sizeof(v->reason), "KVM not probed: %s", why);
			vb_log("accel: tcg: %s", v->reason);
			free(key);
			return 0;
		}
		if (r == ACCEL_PROBE_BOOTED) {
			snprintf(v->accel, sizeof(v->accel), "kvm");
		} else {
			snprintf(v->accel, sizeof(v->accel), "tcg");
			if (r == ACCEL_PROBE_EXITED || r == ACCEL_PROBE_CRASHED)
				snprintf(v->reason, sizeof(v->reason),
					 "KVM present but QEMU could not use it; probe: %s", why);
			else if (pvm)
				snprintf(v->reason, sizeof(v->reason),
					 "KVM present but a standard kernel does not boot under it (kvm_pvm is loaded: "
					 "PVM runs only PVM-enabled guest kernels); probe: %s",
					 why);
			else
				snprintf(v->reason, sizeof(v->reason),
					 "KVM present but the guest kernel does not boot under it; probe: %s", why);
		}
		/* A QEMU that refused to start may be fixed by then: only a definite verdict is kept. A crash on the
		 * accelerator is one: with the same host kernel and QEMU (both in the key), it happens every time. */
		if (r != ACCEL_PROBE_EXITED)
			cache_write(q->cache_path, key, v);
		vb_log("accel: %s after a %.1f s probe%s%s", v->accel, v->probe_s, v->reason[0] ? ": " : "", v->reason);
	}
	free(key);
	if (q->mode == ACCEL_KVM && strcmp(v->accel, "kvm") != 0) {
		snprintf(
		    err, errlen,
		    "KVM was asked for by %s, but it cannot boot the guest kernel here: %s (choose auto or tcg%s%s%s)",
		    source, v->reason, q->cache_path ? "; delete " : "", q->cache_path ? q->cache_path : "",
		    q->cache_path ? " to probe again" : "");
		return -1;
	}
	return 0;
}
