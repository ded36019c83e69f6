/* image.c: builds the guest initramfs as a "newc" cpio archive in memory
 * (format: the kernel's Documentation/driver-api/early-userspace/buffer-format.rst),
 * names it by a hash of its bytes, and writes it only when that name is new. */
#define _GNU_SOURCE
#include "vm/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/edid.h"
#include "vm/kernel_elf.h"
#include "util.h"

/* The modules the guest needs; their dependencies are resolved with modprobe. */
static const char *const guest_modules[] = {
	"virtio_pci", "virtio_console", "virtio_gpu", "9pnet_virtio", "9p", "overlay",
};

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t ncap = b->cap ? b->cap : 1 << 20;

		while (ncap < b->len + len)
			ncap *= 2;
		b->p = realloc(b->p, ncap);
		if (!b->p)
			abort();
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void buf_pad4(struct buf *b)
{
	static const char zeros[4];

	if (b->len % 4)
		buf_put(b, zeros, 4 - b->len % 4);
}

static unsigned ino_next = 1;

static void cpio_entry(struct buf *b, const char *name, unsigned mode, unsigned rdev_major, unsigned rdev_minor,
		       const void *data, size_t len)
{
	char hdr[160];
	size_t namesize = strlen(name) + 1;

	/* mtime 0 and fixed inode numbers keep the archive (and its hash) reproducible. */
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X", ino_next++, mode, 0u,
		 0u, 1u, 0u, (unsigned)len, 0u, 0u, rdev_major, rdev_minor, namesize, 0u);
	buf_put(b, hdr, 110);
	buf_put(b, name, namesize);
	buf_pad4(b);
	if (len) {
		buf_put(b, data, len);
		buf_pad4(b);
	}
}

static void cpio_dir(struct buf *b, const char *name)
{
	cpio_entry(b, name, 040755, 0, 0, NULL, 0);
}

/* Add every parent directory of path (without leading '/') not added yet. */
static void cpio_parents(struct buf *b, const char *path, char ***seen, size_t *nseen)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *s = tmp; (s = strchr(s, '/')); s++) {
		int have = 0;

		*s = '\0';
		for (size_t i = 0; i < *nseen; i++)
			if (strcmp((*seen)[i], tmp) == 0)
				have = 1;
		if (!have) {
			*seen = realloc(*seen, (*nseen + 1) * sizeof(**seen));
			if (!*seen)
				abort();
			(*seen)[(*nseen)++] = vb_strdup(tmp);
			cpio_dir(b, tmp);
		}
		*s = '/';
	}
}

static int cpio_file(struct buf *b, const char *name, const char *src, unsigned mode, char *err, size_t errlen)
{
	size_t len;
	char *data = vb_read_file(src, &len);

	if (!data) {
		snprintf(err, errlen, "cannot read %s for the guest image: %s", src, strerror(errno));
		return -1;
	}
	cpio_entry(b, name, mode, 0, 0, data, len);
	free(data);
	return 0;
}

/* 64-bit FNV-1a: the image cache's keys (the initramfs's, the unpacked kernel's). */
unsigned long long image_hash64(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned long long h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int list_has(const struct buf *l, const char *line)
{
	size_t n = strlen(line), i = 0;

	while (i < l->len) {
		const char *nl = memchr(l->p + i, '\n', l->len - i);
		size_t end = nl ? (size_t)(nl - l->p) : l->len;

		if (end - i == n && memcmp(l->p + i, line, n) == 0)
			return 1;
		i = end + 1;
	}
	return 0;
}

/* The ordered, de-duplicated list of .ko files for guest_modules. */
static char *module_list(const char *kver, char *err, size_t errlen)
{
	struct buf list = { 0 };

	for (size_t i = 0; i < sizeof(guest_modules) / sizeof(guest_modules[0]); i++) {
		char *argv[] = { "modprobe", "-S", (char *)kver, "--show-depends", (char *)guest_modules[i], NULL };
		int st;
		char *out = vb_capture(argv, &st);

		if (!out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(err, errlen, "modprobe -S %s --show-depends %s failed (is kmod installed?)", kver,
				 guest_modules[i]);
			free(out);
			free(list.p);
			return NULL;
		}
		for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char path[512];

			/* "insmod /lib/modules/.../x.ko [params]"; "builtin x" needs nothing. */
			if (sscanf(line, "insmod %511s", path) != 1)
				continue;
			if (list_has(&list, path))
				continue;
			buf_put(&list, path, strlen(path));
			buf_put(&list, "\n", 1);
		}
		free(out);
	}
	buf_put(&list, "", 1);
	return list.p;
}

/* What QEMU boots: the kernel's ELF unpacked for its PVH entry when unpack is set and it can be, else the bzImage
 * as it is (img->kernel already names it); img->kernel_how says which, and why. */
static void choose_kernel(struct image *img, const char *kernel, const char *cache_dir, int unpack)
{
	char *why;

	if (!unpack) {
		snprintf(img->kernel_how, sizeof(img->kernel_how), "%s as it is (the plan says kernel_boot = bzimage)",
			 kernel);
		return;
	}
	if (kernel_elf(kernel, cache_dir, img->kernel, sizeof(img->kernel), img->kernel_how,
		       sizeof(img->kernel_how)) == 0)
		return;
	why = vb_strdup(img->kernel_how);
	snprintf(img->kernel, sizeof(img->kernel), "%s", kernel);
	snprintf(img->kernel_how, sizeof(img->kernel_how), "%.300s as it is (its ELF is not unpacked: %.400s)", kernel,
		 why);
	free(why);
}

/* The harness's EDIDs into the archive: 640x480's, and one for each mode asked for. 0, or -1 with err. */
static int cpio_edids(struct buf *b, char ***seen, size_t *nseen, const struct image_mode *modes, int nmodes, char *err,
		      size_t errlen)
{
	unsigned char edid[EDID_BLOCK];
	char name[96];

	edid_640x480(edid);
	cpio_parents(b, "lib/firmware/" EDID_FIRMWARE_NAME, seen, nseen);
	cpio_entry(b, "lib/firmware/" EDID_FIRMWARE_NAME, 0100644, 0, 0, edid, sizeof(edid));
	for (int i = 0; i < nmodes; i++) {
		char path[128];
		int again = 0;

		for (int j = 0; j < i; j++)
			again |= modes[j].width == modes[i].width && modes[j].height == modes[i].height;
		if (again)
			continue;
		if (edid_for_mode(edid, modes[i].width, modes[i].height) < 0) {
			snprintf(err, errlen, "no EDID can carry the mode %dx%d", modes[i].width, modes[i].height);
			return -1;
		}
		edid_firmware_name(name, sizeof(name), modes[i].width, modes[i].height);
		snprintf(path, sizeof(path), "lib/firmware/%s", name);
		cpio_entry(b, path, 0100644, 0, 0, edid, sizeof(edid));
	}
	return 0;
}

int image_build(const char *kernel, const char *kver, const char *agent, const char *init, const char *cache_dir,
		int unpack, const struct image_mode *modes, int nmodes, struct image *img, char *err, size_t errlen)
{
	struct buf b = { 0 };
	char **seen = NULL;
	size_t nseen = 0;
	char *mods, *path = NULL;
	int rc = -1;
	struct stat st;

	memset(img, 0, sizeof(*img));
	ino_next = 1;
	snprintf(img->kernel, sizeof(img->kernel), "%s", kernel);
	if (access(kernel, R_OK) < 0) {
		snprintf(err, errlen, "guest kernel %s is not readable: %s", kernel, strerror(errno));
		return -1;
	}
	mods = module_list(kver, err, errlen);
	if (!mods)
		return -1;
	for (const char *d = "bin\0dev\0proc\0sys\0tmp\0lower\0rw\0newroot\0"; *d; d += strlen(d) + 1)
		cpio_dir(&b, d);
	cpio_entry(&b, "dev/console", 020600, 5, 1, NULL, 0);
	if (cpio_file(&b, "init", init, 0100755, err, errlen) < 0 ||
	    cpio_file(&b, "bin/busybox", "/bin/busybox", 0100755, err, errlen) < 0 ||
	    cpio_file(&b, "vgpu-agent", agent, 0100755, err, errlen) < 0)
		goto out;
	cpio_entry(&b, "modules.list", 0100644, 0, 0, mods, strlen(mods));
	if (cpio_edids(&b, &seen, &nseen, modes, nmodes, err, errlen) < 0)
		goto out;
	for (char *save = NULL, *m = strtok_r(mods, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
		cpio_parents(&b, m + 1, &seen, &nseen);
		if (cpio_file(&b, m + 1, m, 0100644, err, errlen) < 0)
			goto out;
	}
	cpio_entry(&b, "TRAILER!!!", 0, 0, 0, NULL, 0);

	snprintf(img->hash, sizeof(img->hash), "%016llx", image_hash64(b.p, b.len));
	if (vb_mkdirs(cache_dir, 0755) < 0) {
		snprintf(err, errlen, "cannot create the image cache %s: %s", cache_dir, strerror(errno));
		goto out;
	}
	path = vb_strdupf("%s/initramfs-%s.cpio", cache_dir, img->hash);
	snprintf(img->initrd, sizeof(img->initrd), "%s", path);
	if (stat(path, &st) == 0 && (size_t)st.st_size == b.len) {
		img->cached = 1;
	} else if (vb_write_file(path, b.p, b.len) < 0) {
		snprintf(err, errlen, "cannot write the guest image %s: %s", path, strerror(errno));
		goto out;
	}
	choose_kernel(img, kernel, cache_dir, unpack);
	rc = 0;
out:
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(mods);
	free(path);
	free(b.p);
	return rc;
}
