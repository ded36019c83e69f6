/* image_test.c: the guest initramfs (a valid newc archive with init, busybox,
 * the agent, the EDID and every module it lists; rebuilt identically and
 * then reused from the cache) and the EDID block itself. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "vm/edid.h"
#include "host/hostcheck.h"
#include "vm/image.h"
#include "util.h"

static unsigned hex8(const char *p)
{
	char b[9];

	memcpy(b, p, 8);
	b[8] = '\0';
	return (unsigned)strtoul(b, NULL, 16);
}

struct entry {
	char name[256];
	unsigned mode, size;
	size_t data; /* offset of the contents in the archive */
};

/* Walk a newc archive; returns the number of entries, -1 if malformed. */
static int walk(const char *a, size_t len, struct entry *out, int max)
{
	size_t off = 0;
	int n = 0;

	while (off + 110 <= len) {
		if (memcmp(a + off, "070701", 6) != 0)
			return -1;
		unsigned mode = hex8(a + off + 14), size = hex8(a + off + 54), namesize = hex8(a + off + 94);

		if (namesize == 0 || off + 110 + namesize > len)
			return -1;
		const char *name = a + off + 110;

		if (name[namesize - 1] != '\0')
			return -1;
		if (strcmp(name, "TRAILER!!!") == 0)
			return n;
		if (n < max) {
			snprintf(out[n].name, sizeof(out[n].name), "%s", name);
			out[n].mode = mode;
			out[n].size = size;
		}
		off = (off + 110 + namesize + 3) & ~(size_t)3;
		if (n < max)
			out[n].data = off;
		n++;
		off = (off + size + 3) & ~(size_t)3;
		if (off > len)
			return -1;
	}
	return -1;
}

static const struct entry *find(const struct entry *e, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

static void test_edid(void)
{
	unsigned char e[EDID_BLOCK];
	unsigned sum = 0;

	edid_640x480(e);
	for (int i = 0; i < EDID_BLOCK; i++)
		sum += e[i];
	CHECK(sum % 256 == 0, "EDID checksum");
	CHECK(memcmp(e, "\0\xff\xff\xff\xff\xff\xff\0", 8) == 0, "EDID header");
	CHECK(e[18] == 1 && e[19] == 3, "EDID 1.3");
	/* first detailed timing: 25.175 MHz, 640 x 480 */
	CHECK((e[54] | e[55] << 8) == 2518, "pixel clock");
	CHECK((e[56] | (e[58] >> 4) << 8) == 640, "width");
	CHECK((e[59] | (e[61] >> 4) << 8) == 480, "height");
	CHECK(e[126] == 0, "no extension blocks");
}

/* The plan's display modes: an EDID for each (once), in another image; a mode no EDID can carry is refused. */
static void check_modes(const struct host *h, char **argv, const char *dir, const struct image *plain)
{
	const struct image_mode modes[] = { { 1920, 1080 }, { 800, 600 }, { 1920, 1080 } }, huge = { 5000, 600 };
	struct image img;
	char err[512], name[96], path[128];
	size_t len = 0;

	CHECK(image_build(h->guest_kernel, h->kernel_version, argv[1], argv[2], dir, 1, modes, 3, &img, err,
			  sizeof(err)) == 0 &&
		      strcmp(img.hash, plain->hash),
	      "with modes, another image: %s", err);
	char *a = vb_read_file(img.initrd, &len);
	struct entry *e = calloc(512, sizeof(*e));
	int n = a ? walk(a, len, e, 512) : -1, seen = 0;

	edid_firmware_name(name, sizeof(name), 1920, 1080);
	snprintf(path, sizeof(path), "lib/firmware/%s", name);
	for (int i = 0; i < n; i++)
		seen += !strncmp(e[i].name, "lib/firmware/edid/", 18);
	CHECK(n > 0 && find(e, n, path) && find(e, n, path)->size == 128 &&
		      find(e, n, "lib/firmware/edid/vgpubench-cvt-800x600.bin") && seen == 3,
	      "an EDID for each mode, once, beside 640x480's: %d", seen);
	CHECK(image_build(h->guest_kernel, h->kernel_version, argv[1], argv[2], dir, 1, &huge, 1, &img, err,
			  sizeof(err)) < 0,
	      "a mode no EDID carries is refused");
	CHECK_STR_CONTAINS(err, "no EDID can carry the mode 5000x600");
	free(e);
	free(a);
}

int main(int argc, char **argv)
{
	struct host h;
	struct image img, again;
	char err[512], dir[] = "/tmp/vgpubench-image-XXXXXX";

	test_edid();
	if (argc < 3) {
		fprintf(stderr, "usage: %s AGENT INIT\n", argv[0]);
		return 2;
	}
	host_probe(&h);
	CHECK(h.guest_kernel[0] != '\0', "a guest kernel is installed (make deps)");
	if (!h.guest_kernel[0] || !mkdtemp(dir))
		return check_done("image");
	CHECK(image_build(h.guest_kernel, h.kernel_version, argv[1], argv[2], dir, 1, NULL, 0, &img, err,
			  sizeof(err)) == 0,
	      "build: %s", err);
	CHECK(!img.cached, "first build is new");

	size_t len = 0;
	char *a = vb_read_file(img.initrd, &len);
	struct entry *e = calloc(512, sizeof(*e));
	int n = a ? walk(a, len, e, 512) : -1;

	CHECK(n > 10 && n < 512, "archive parses (%d entries)", n);
	const struct entry *init = find(e, n, "init"), *agent = find(e, n, "vgpu-agent");

	CHECK(init && (init->mode & 0111), "executable /init");
	CHECK(agent && (agent->mode & 0111) && agent->size > 0, "executable /vgpu-agent");
	CHECK(find(e, n, "bin/busybox") != NULL, "busybox");
	CHECK(find(e, n, "dev/console") && (find(e, n, "dev/console")->mode & 0170000) == 0020000,
	      "/dev/console is a character device");
	CHECK(find(e, n, "lib/firmware/" EDID_FIRMWARE_NAME) && find(e, n, "lib/firmware/" EDID_FIRMWARE_NAME)->size == 128,
	      "EDID firmware");
	const struct entry *ml = find(e, n, "modules.list");

	CHECK(ml != NULL, "modules.list");
	/* Every listed module is in the archive, virtio-gpu among them. */
	int mods = 0, missing = 0, gpu = 0;
	if (ml && ml->data + ml->size <= len) {
		char *list = strndup(a + ml->data, ml->size);

		for (char *save = NULL, *m = strtok_r(list, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
			mods++;
			missing += find(e, n, m + 1) == NULL;
			gpu |= strstr(m, "virtio-gpu.ko") != NULL;
		}
		free(list);
	}
	CHECK(mods >= 5 && missing == 0, "%d modules listed, %d missing from the archive", mods, missing);
	CHECK(gpu, "virtio-gpu.ko is loaded by the guest");

	CHECK(image_build(h.guest_kernel, h.kernel_version, argv[1], argv[2], dir, 1, NULL, 0, &again, err,
			  sizeof(err)) == 0,
	      "rebuild: %s", err);
	CHECK(again.cached, "identical inputs reuse the cached image");
	CHECK(strcmp(again.hash, img.hash) == 0, "reproducible hash");
	/* The kernel: its ELF unpacked into the cache for the PVH entry, then found there; or, when the plan says
	 * so, the bzImage as it is. */
	CHECK(strncmp(img.kernel, dir, strlen(dir)) == 0 && strstr(img.kernel, "/vmlinux-") &&
		      strstr(img.kernel_how, "; booted at its PVH entry") && !strstr(img.kernel_how, "cached"),
	      "the kernel unpacked into the cache: %s", img.kernel_how);
	CHECK(!strcmp(again.kernel, img.kernel) && strstr(again.kernel_how, "cached"), "and found there again: %s",
	      again.kernel_how);
	CHECK(image_build(h.guest_kernel, h.kernel_version, argv[1], argv[2], dir, 0, NULL, 0, &again, err,
			  sizeof(err)) == 0 &&
		      !strcmp(again.kernel, h.guest_kernel) && strstr(again.kernel_how, "kernel_boot = bzimage"),
	      "kernel_boot = bzimage: the bzImage itself: %s", again.kernel_how);
	CHECK(image_build(h.guest_kernel, h.kernel_version, "/nonexistent/agent", argv[2], dir, 1, NULL, 0, &again, err,
			  sizeof(err)) < 0,
	      "a missing agent fails");
	CHECK_STR_CONTAINS(err, "/nonexistent/agent");
	check_modes(&h, argv, dir, &img);

	free(e);
	free(a);
	vb_rm_rf(dir);
	return check_done("image");
}
