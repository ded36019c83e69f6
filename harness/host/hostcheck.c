/* hostcheck.c: host probing. Every fact comes from the machine itself (sysfs,
 * /proc, the installed binaries); a missing capability becomes a skip reason. */
#define _GNU_SOURCE
#include "host/hostcheck.h"

#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static int in_path(const char *prog, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	int found = 0;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = vb_strdup(path);
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = vb_strdupf("%s/%s", d, prog);

		if (access(p, X_OK) == 0) {
			if (out)
				snprintf(out, outlen, "%s", p);
			found = 1;
		}
		free(p);
		if (found)
			break;
	}
	free(copy);
	return found;
}

static void probe_qemu(struct host *h)
{
	char *argv[] = { h->qemu, "--version", NULL };
	int st;
	char *out;

	if (!in_path("qemu-system-x86_64", h->qemu, sizeof(h->qemu)))
		return;
	out = vb_capture(argv, &st);
	if (out) {
		const char *v = strstr(out, "version ");

		if (v && sscanf(v + 8, "%63s", h->qemu_version) == 1)
			h->qemu_major = atoi(h->qemu_version);
		free(out);
	}
}

/* The newest /boot/vmlinuz-* that has its modules installed. */
static void probe_guest_kernel(struct host *h)
{
	glob_t g;

	if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
		return;
	for (size_t i = g.gl_pathc; i-- > 0;) {
		const char *ver = g.gl_pathv[i] + strlen("/boot/vmlinuz-");
		char *mods = vb_strdupf("/lib/modules/%s/modules.dep", ver);
		int ok = access(mods, R_OK) == 0 && access(g.gl_pathv[i], R_OK) == 0;

		free(mods);
		if (ok) {
			snprintf(h->guest_kernel, sizeof(h->guest_kernel), "%s", g.gl_pathv[i]);
			snprintf(h->kernel_version, sizeof(h->kernel_version), "%s", ver);
			break;
		}
	}
	globfree(&g);
}

static void probe_cpu(struct host *h)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');

				if (c) {
					c++;
					while (*c == ' ')
						c++;
					c[strcspn(c, "\n")] = '\0';
					snprintf(h->cpu_model, sizeof(h->cpu_model), "%s", c);
				}
				break;
			}
		fclose(f);
	}
	h->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	f = fopen("/proc/meminfo", "r");
	if (f) {
		if (fscanf(f, "MemTotal: %lld", &h->mem_kb) != 1)
			h->mem_kb = -1;
		fclose(f);
	}
}

/* The installed version of a Debian package, or "" when it is not installed. */
static void pkg_version(const char *pkg, char *out, size_t len)
{
	char *argv[] = { "dpkg-query", "-W", "-f=${Version}", (char *)pkg, NULL };
	int st;
	char *v = vb_capture(argv, &st);

	out[0] = '\0';
	if (v && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		snprintf(out, len, "%s", v);
	free(v);
}

/* A sysfs attribute's first line (a PCI id: "0x1af4"), without the 0x, into out ("" when it cannot be read). */
static void sysfs_id(const char *path, char *out, size_t len)
{
	size_t n = 0;
	char *t = vb_read_file_max(path, 64, &n);
	const char *v = t && !strncmp(t, "0x", 2) ? t + 2 : t;

	snprintf(out, len, "%.*s", v ? (int)strcspn(v, "\n") : 0, v ? v : "");
	free(t);
}

void host_gpus(const char *sysfs, char *out, size_t len)
{
	char *pattern = vb_strdupf("%s/class/drm/renderD*", sysfs);
	glob_t g;

	out[0] = '\0';
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char *link = vb_strdupf("%s/device/driver", g.gl_pathv[i]), target[256], vendor[16], device[16];
			char *vpath = vb_strdupf("%s/device/vendor", g.gl_pathv[i]);
			char *dpath = vb_strdupf("%s/device/device", g.gl_pathv[i]);
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			const char *driver = "unbound", *node = strrchr(g.gl_pathv[i], '/') + 1;
			size_t used = strlen(out);

			if (n > 0) {
				target[n] = '\0';
				driver = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
			}
			sysfs_id(vpath, vendor, sizeof(vendor));
			sysfs_id(dpath, device, sizeof(device));
			snprintf(out + used, len - used, "%s%s %s%s%s%s%s", used ? ", " : "", node, driver,
				 vendor[0] ? " " : "", vendor, vendor[0] && device[0] ? ":" : "", device);
			free(link);
			free(vpath);
			free(dpath);
		}
		globfree(&g);
	}
	free(pattern);
}

void host_probe(struct host *h)
{
	struct utsname u;
	glob_t g;

	memset(h, 0, sizeof(*h));
	strcpy(h->sysfs, "/sys");
	strcpy(h->accel, "none");
	strcpy(h->accel_reason, "not decided yet");
	probe_qemu(h);
	probe_guest_kernel(h);
	probe_cpu(h);
	pkg_version("libgl1-mesa-dri", h->mesa_version, sizeof(h->mesa_version));
	pkg_version("libvirglrenderer1", h->virglrenderer_version, sizeof(h->virglrenderer_version));
	if (uname(&u) == 0)
		snprintf(h->host_kernel, sizeof(h->host_kernel), "%s", u.release);
	if (glob("/dev/dri/renderD*", 0, NULL, &g) == 0) {
		h->has_render_node = g.gl_pathc > 0;
		globfree(&g);
	}
	host_gpus(h->sysfs, h->gpus, sizeof(h->gpus));
	h->has_xvfb = in_path("Xvfb", NULL, 0);
	h->has_glmark2_host = in_path("glmark2-es2", NULL, 0);
	h->has_glmark2_guest = in_path("glmark2-es2-drm", NULL, 0);
}

int host_iommu_groups(const char *sysfs)
{
	char *path = vb_strdupf("%s/kernel/iommu_groups", sysfs);
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	free(path);
	return n;
}

int host_choose_accel(struct host *h, enum accel_mode plan_mode, const char *cache_path, char *err, size_t errlen)
{
	const char *env = getenv(HOST_ACCEL_ENV);
	char source[64];
	struct accel_verdict v;
	struct accel_query q = {
		.mode = plan_mode,
		.qemu = h->qemu,
		.qemu_version = h->qemu_version,
		.guest_kernel = h->guest_kernel,
		.cache_path = cache_path,
		.mode_source = source,
	};

	if (env && *env) {
		if (accel_mode_parse(env, &q.mode) < 0) {
			snprintf(err, errlen, "%s='%.32s' is not auto, kvm or tcg", HOST_ACCEL_ENV, env);
			return -1;
		}
		snprintf(source, sizeof(source), "%s=%s", HOST_ACCEL_ENV, env);
	} else {
		snprintf(source, sizeof(source), "the plan ([guest] accel = %s)", accel_mode_name(plan_mode));
	}
	if (q.mode != ACCEL_TCG && (!h->qemu[0] || !h->guest_kernel[0])) {
		if (q.mode == ACCEL_KVM) {
			snprintf(err, errlen, "KVM was asked for by %s, but there is no %s to probe it with", source,
				 h->qemu[0] ? "guest kernel" : "qemu-system-x86_64");
			return -1;
		}
		/* Nothing can boot a guest: the configs' skip reasons say why. */
		strcpy(h->accel, "tcg");
		snprintf(h->accel_reason, sizeof(h->accel_reason), "KVM not probed: no %s",
			 h->qemu[0] ? "guest kernel" : "qemu-system-x86_64");
		return 0;
	}
	if (accel_decide(&q, &v, err, errlen) < 0)
		return -1;
	snprintf(h->accel, sizeof(h->accel), "%s", v.accel);
	snprintf(h->accel_reason, sizeof(h->accel_reason), "%s", v.reason);
	return 0;
}

const char *host_skip_reason(const struct host *h, const struct plan *p, const struct config_def *c, char *buf,
			     size_t buflen)
{
	/* What every configuration of a kind needs; the rest is the configuration's own business. */
	if (c->kind == CONFIG_HOST) {
		if (!h->has_xvfb)
			return "Xvfb is not installed (run make deps)";
	} else {
		if (!h->qemu[0])
			return "qemu-system-x86_64 is not installed (run make deps)";
		if (h->qemu_major < 10) {
			snprintf(buf, buflen, "QEMU %s is older than 10", h->qemu_version);
			return buf;
		}
		if (!h->guest_kernel[0])
			return "no guest kernel: /boot/vmlinuz-* with modules (install linux-image-amd64)";
	}
	return c->skip_reason ? c->skip_reason(h, p, buf, buflen) : NULL;
}
