/* nested_lab_unit_test.c: the parts of the nested lab that need no VM: the
 * screen check (harness/vm/screen_watch.c: a PPM that is one solid colour,
 * pixel-exact, and malformed dumps refused) and the lab's verdict from its
 * evidence (harness/run/nested_lab.c: every missing proof named). The lab itself
 * runs in nested_lab_test.sh. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "run/nested_lab.h"
#include "vm/screen_watch.h"
#include "util.h"

static char dir[] = "/tmp/vgpubench-labunit-XXXXXX";

/* A w×h PPM of colour rgb (pixel `odd` set to another colour when >= 0) with the given header. */
static char *ppm(const char *name, const char *header, int w, int h, uint32_t rgb, long odd)
{
	char *path = vb_strdupf("%s/%s", dir, name);
	size_t hl = strlen(header), n = (size_t)w * (size_t)h * 3;
	unsigned char *buf = malloc(hl + n);

	memcpy(buf, header, hl);
	for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
		uint32_t c = (long)i == odd ? rgb ^ 1 : rgb;

		buf[hl + 3 * i] = (unsigned char)(c >> 16);
		buf[hl + 3 * i + 1] = (unsigned char)(c >> 8);
		buf[hl + 3 * i + 2] = (unsigned char)c;
	}
	if (vb_write_file(path, buf, hl + n) < 0)
		fprintf(stderr, "cannot write %s\n", path);
	free(buf);
	return path;
}

static void test_ppm(void)
{
	int w = 0, h = 0;
	char *p;

	p = ppm("solid.ppm", "P6\n640 480\n255\n", 640, 480, 0x336699, -1);
	CHECK(ppm_is_solid(p, 0x336699, &w, &h) == 1 && w == 640 && h == 480, "a solid frame (%dx%d)", w, h);
	CHECK(ppm_is_solid(p, 0x336698, &w, &h) == 0, "of another colour: no");
	free(p);
	p = ppm("one-off.ppm", "P6\n640 480\n255\n", 640, 480, 0x336699, 640 * 480 - 1);
	CHECK(ppm_is_solid(p, 0x336699, &w, &h) == 0, "one pixel off, the last: not pixel-exact");
	free(p);
	p = ppm("comment.ppm", "P6\n# QEMU\n64 64\n255\n", 64, 64, 0x336699, -1);
	CHECK(ppm_is_solid(p, 0x336699, &w, &h) == 1, "a header comment is skipped");
	free(p);
	p = ppm("small.ppm", "P6\n8 8\n255\n", 8, 8, 0x336699, -1);
	CHECK(ppm_is_solid(p, 0x336699, &w, &h) == 0, "a frame too small to be a screen is no proof");
	free(p);
	p = ppm("short.ppm", "P6\n640 480\n255\n", 640, 100, 0x336699, -1);
	CHECK(ppm_is_solid(p, 0x336699, &w, &h) == -1, "a dump shorter than its header says is malformed");
	free(p);
	p = ppm("p3.ppm", "P3\n64 64\n255\n", 64, 64, 0x336699, -1);
	CHECK(ppm_is_solid(p, 0x336699, &w, &h) == -1, "not P6");
	free(p);
	p = ppm("deep.ppm", "P6\n64 64\n65535\n", 64, 64, 0x336699, -1);
	CHECK(ppm_is_solid(p, 0x336699, &w, &h) == -1, "16-bit samples are not what QEMU writes");
	free(p);
	p = ppm("huge.ppm", "P6\n99999999 99999999\n255\n", 1, 1, 0x336699, -1);
	CHECK(ppm_is_solid(p, 0x336699, &w, &h) == -1, "absurd sizes are refused, not multiplied");
	free(p);
	CHECK(ppm_is_solid("/nonexistent.ppm", 0x336699, &w, &h) == -1, "no file");
}

static void test_verdict(void)
{
	struct nested_lab lab;
	char buf[512], ev[1024];

	memset(&lab, 0, sizeof(lab));
	CHECK_STR_CONTAINS(nested_lab_verdict(&lab, buf, sizeof(buf)), "journal shows no device bound to vfio-pci");
	strcpy(lab.device, "0000:01:00.0");
	strcpy(lab.driver_before, "virtio-pci");
	lab.bound = 1;
	lab.jobs = 1;
	CHECK_STR_CONTAINS(nested_lab_verdict(&lab, buf, sizeof(buf)), "no job of the inner run succeeded");
	lab.jobs_ok = lab.kms_ok = 1;
	CHECK_STR_CONTAINS(nested_lab_verdict(&lab, buf, sizeof(buf)), "its frame never reached the outermost display");
	lab.frame_seen = 1;
	lab.frame_w = 640;
	lab.frame_h = 480;
	lab.frame_s = 200;
	strcpy(lab.driver_after, "vfio-pci");
	CHECK_STR_CONTAINS(nested_lab_verdict(&lab, buf, sizeof(buf)),
			   "0000:01:00.0 was not given back to virtio-pci (its driver now: vfio-pci)");
	lab.restored = 1;
	CHECK_STR_CONTAINS(nested_lab_verdict(&lab, buf, sizeof(buf)), "was not given back");
	strcpy(lab.driver_after, "virtio-pci");
	CHECK(nested_lab_verdict(&lab, buf, sizeof(buf)) == NULL, "every proof there: the path is proven");
	strcpy(lab.inner_run, "20261130-000000-lab-inner");
	nested_lab_evidence(&lab, ev, sizeof(ev));
	CHECK_STR_CONTAINS(ev, "inner run 20261130-000000-lab-inner: 0000:01:00.0 bound from virtio-pci to vfio-pci and "
			       "restored, virtio-pci after (as before); 1 of 1 jobs ok in its guest; kms2d's frame seen on "
			       "the outermost display (640x480, pixel-exact, 200 s in)");
	/* A lab whose inner jobs ran no kms2d needs no frame. */
	/* A lab host whose run never completed: what is known, and no "?" for the fields nobody filled. */
	{
		struct nested_lab none;

		memset(&none, 0, sizeof(none));
		nested_lab_evidence(&none, ev, sizeof(ev));
		CHECK_STR_CONTAINS(ev, "the lab host's run did not complete, so nothing is known of its device; 0 of 0 "
				       "jobs ok in its guest; no kms2d frame seen on the outermost display");
		CHECK(!strchr(ev, '?'), "no '?' in: %s", ev);
		strcpy(none.device, "0000:01:00.0");
		nested_lab_evidence(&none, ev, sizeof(ev));
		CHECK_STR_CONTAINS(ev, "inner run (it did not complete): 0000:01:00.0 not bound to vfio-pci, never "
				       "restored;");
		CHECK(!strchr(ev, '?'), "no '?' in: %s", ev);
	}
	lab.kms_ok = 0;
	lab.frame_seen = 0;
	CHECK(nested_lab_verdict(&lab, buf, sizeof(buf)) == NULL, "no kms2d, no frame needed");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_ppm();
	test_verdict();
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("nested_lab_unit");
}
