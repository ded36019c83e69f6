/* boot_test.c: integration test. Decides the accelerator the way a run does
 * (a boot probe, cached next to the agent, VGPUBENCH_ACCEL overriding), boots
 * one real guest with the generated image under it and runs commands in it
 * through vgpu-agent: hello, a job whose output is checked, a job that times
 * out, and shutdown powering the guest off. Arguments: AGENT INIT. */
#define _GNU_SOURCE
#include <libgen.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vm/agent_client.h"
#include "vm/boot_wait.h"
#include "check.h"
#include "guest_fixture.h"
#include "host/hostcheck.h"
#include "vm/image.h"
#include "util.h"
#include "vm/vm.h"

int main(int argc, char **argv)
{
	struct host h;
	struct image img;
	struct vm vm;
	struct agent_conn c = { .rfd = -1, .wfd = -1 };
	struct agent_conn *cs[1] = { &c };
	struct json_object *hello = NULL;
	char err[512], dir[] = "/tmp/vgpubench-boot-XXXXXX";
	static const char *const gpu[] = { "-device", "virtio-gpu-pci,xres=640,yres=480", NULL };

	if (argc < 3) {
		fprintf(stderr, "usage: %s AGENT INIT\n", argv[0]);
		return 2;
	}
	if (guest_host_ready(&h, argv[1]) < 0)
		return check_done("boot");
	printf("boot: accelerator %s%s%s\n", h.accel, h.accel_reason[0] ? ": " : "", h.accel_reason);
	if (check_failed || !mkdtemp(dir))
		return check_done("boot");
	CHECK(image_build(h.guest_kernel, h.kernel_version, argv[1], argv[2], dir, 1, NULL, 0, &img, err,
			  sizeof(err)) == 0,
	      "image: %s", err);
	printf("boot: kernel %s\n", img.kernel_how);
	struct vm_opts o = { .qemu = h.qemu, .accel = h.accel, .kernel = img.kernel, .initrd = img.initrd,
			     .cpu = "Westmere", .memory_mb = 512, .vcpus = 1, .display = NULL, .gpu_args = gpu };

	CHECK(vm_start(&vm, 1, dir, &o) == 0, "QEMU started");
	double t0 = vb_now();

	CHECK(agent_connect_unix(&c, vm.agent_sock, t0 + 30, vm.pid, "guest1") == 0, "agent socket");
	CHECK(c.buf && boot_wait_hello(&c, &vm, t0 + 180, BOOT_SILENT_S, &hello, NULL) == 0, "hello within 180 s");
	printf("boot: %s guest answered in %.1f s\n", h.accel, vb_now() - t0);
	if (!hello) {
		fprintf(stderr, "serial log tail:\n%s\n", vm_serial_tail(&vm));
		vm_stop(&vm);
		if (c.buf)
			agent_close(&c);
		return check_done("boot");
	}
	const char *drm = json_object_to_json_string_ext(hello, JSON_C_TO_STRING_PLAIN);

	CHECK_STR_CONTAINS(drm, "\"driver\":\"virtio_gpu\"");
	json_object_put(hello);

	/* A job: the guest runs the host's kernel, mounts the host's root, and uses our EDID. */
	struct utsname u;
	struct job_result r;
	const char *cmd[] = { "sh", "-c",
			      "uname -r; test -x /usr/bin/glmark2-es2-drm && echo host-root; "
			      "cat /sys/class/drm/card0-Virtual-1/modes; touch /etc/written && echo overlay-rw",
			      NULL };

	uname(&u);
	const char *const *argvs[1] = { cmd };

	agent_run_parallel(cs, 1, argvs, NULL, 60, NULL, &r);
	CHECK(strcmp(r.status, "exited") == 0 && r.code == 0, "job status %s code %d %s", r.status, r.code, r.error);
	CHECK_STR_CONTAINS(r.out, h.kernel_version);
	CHECK_STR_CONTAINS(r.out, "host-root");
	CHECK_STR_CONTAINS(r.out, "640x480");
	CHECK_STR_CONTAINS(r.out, "overlay-rw");
	job_result_free(&r);

	/* A job that hangs is killed at its timeout and reported as such. */
	const char *hang[] = { "sleep", "1000", NULL };

	argvs[0] = hang;
	agent_run_parallel(cs, 1, argvs, NULL, 2, NULL, &r);
	CHECK(strcmp(r.status, "timeout") == 0, "hung job status '%s'", r.status);
	job_result_free(&r);

	/* shutdown powers the guest off: QEMU exits by itself. */
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string("shutdown"));
	CHECK(agent_send(&c, req) == 0, "shutdown sent");
	double until = vb_now() + 60;

	while (vm_alive(&vm) && vb_now() < until)
		usleep(100000);
	CHECK(!vm_alive(&vm), "the guest powered off");
	vm_stop(&vm);
	agent_close(&c);
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("boot");
}
