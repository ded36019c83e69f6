/* mediator_process_test.c: the vgpu-mediator process as VMs meet it, driven by
 * the test front-end over its real sockets (no VM): named vGPUs keep their own
 * resource IDs; a front-end that stalls mid-message holds up no other vGPU and
 * is not dropped for it; a front-end that disconnects takes only its own
 * state, and a restarted one reconnects to the same socket and finds a fresh
 * vGPU; a hostile message drops only its sender; a second front-end on a
 * taken vGPU socket is refused; `--listen DIR` gives every connection its own
 * vGPU; the control socket's counters follow all of it; SIGTERM ends the
 * process cleanly. Under fixed share with weights 3:1, two front-ends that
 * keep their queues full get 75/25 of the renderer's time, and a weight set
 * over the control socket while they run takes effect. A ring stopped and
 * resumed keeps its vGPU's state; a device reset (RESET_DEVICE, or rings that
 * restart afresh) drops it and brings a broken vGPU back, neighbour untouched. A driver that missed its signal
 * is signalled again, once.
 * The mediator serves confined (seccomp, unprivileged), and its self-test
 * dies on a forbidden call. Its command line refuses what is wrong, saying why.
 * The render workers are mediator_workers_test's.
 * Usage: mediator_process_test PATH/vgpu-mediator */
#define _GNU_SOURCE
#include "mediator_fixture.h"

/* In test_command_line's table: the test's folder. */
static const char dir_placeholder[] = "DIR";

static void test_named(const char *dir)
{
	struct two t;
	struct client a, b, a2, intruder;
	json_object *doc;

	two_vgpus(&t, dir, "named", NULL);
	char *argv[] = { (char *)mediator, "--vgpu", t.va, "--vgpu", t.vb, "--control", t.ctl, NULL };

	med_pid = start(argv, t.log);
	CHECK(client_up(&a, t.a_sock) == 0, "front-end a up");
	CHECK(client_up(&b, t.b_sock) == 0, "front-end b up");

	/* private ID spaces */
	CHECK(create(&a, 1) == VIRTIO_GPU_RESP_OK_NODATA, "a creates resource 1");
	CHECK(create(&a, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "a cannot create resource 1 twice");
	CHECK(create(&b, 1) == VIRTIO_GPU_RESP_OK_NODATA, "b has its own resource 1");

	/* a stalls mid-message: b is served meanwhile, and a is not dropped for being slow */
	{
		uint32_t hdr[3] = { VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0 };
		uint32_t req;
		uint64_t feats = 0;

		CHECK(write(a.fe.sock, hdr, 5) == 5, "a sends 5 bytes of a header");
		CHECK(create(&b, 2) == VIRTIO_GPU_RESP_OK_NODATA, "b is served while a's message is incomplete");
		usleep(1500 * 1000);
		CHECK(create(&b, 3) == VIRTIO_GPU_RESP_OK_NODATA, "and still 1.5 s later");
		CHECK(write(a.fe.sock, (uint8_t *)hdr + 5, 7) == 7, "a sends the rest");
		CHECK(fe_reply(&a.fe, &req, &feats, sizeof(feats)) == 8 && req == VHOST_USER_GET_FEATURES &&
			      (feats & (1ull << VIRTIO_F_VERSION_1)),
		      "a's message, once whole, is answered");
		CHECK(create(&a, 2) == VIRTIO_GPU_RESP_OK_NODATA, "a goes on working");
	}

	/* a second front-end on a taken vGPU socket is refused; a is not disturbed */
	{
		int fd = vb_unix_connect(t.a_sock, vb_now() + 5.0, med_pid);
		uint32_t req;
		uint64_t v;

		CHECK(fd >= 0 && fe_init(&intruder.fe, fd, 4096) == 0, "an intruder connects to a's socket");
		fe_send(&intruder.fe, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0);
		CHECK(fe_reply(&intruder.fe, &req, &v, sizeof(v)) < 0, "and is closed without an answer");
		fe_free(&intruder.fe);
		CHECK(create(&a, 3) == VIRTIO_GPU_RESP_OK_NODATA, "a is not disturbed");
	}

	/* a disconnects: b keeps everything, a's state goes */
	client_down(&a);
	CHECK(wait_connected(t.ctl, "a", 0), "the control socket shows a disconnected");
	CHECK(create(&b, 4) == VIRTIO_GPU_RESP_OK_NODATA, "b is served after a left");
	doc = control(t.ctl);
	CHECK(vgpu_field(doc, "b", "resources") == 4, "b keeps its 4 resources (%lld)",
	      (long long)vgpu_field(doc, "b", "resources"));
	CHECK(vgpu_field(doc, "a", "connects") == 1, "a connected once");
	json_object_put(doc);

	/* a's front-end restarts and reconnects to the same socket: a fresh vGPU */
	CHECK(client_up(&a2, t.a_sock) == 0, "a reconnects to the same socket");
	CHECK(create(&a2, 1) == VIRTIO_GPU_RESP_OK_NODATA, "resource 1 is free again: the old state is gone");
	doc = control(t.ctl);
	CHECK(vgpu_field(doc, "a", "connects") == 2 && vgpu_field(doc, "a", "connected") == 1 &&
		      vgpu_field(doc, "a", "resources") == 1,
	      "a: connected, 2 connects, 1 resource");
	json_object_put(doc);

	/* a hostile message (a payload far over the limit) drops only its sender */
	{
		uint32_t hdr[3] = { 9999, VHOST_USER_VERSION, 1u << 30 };

		CHECK(write(a2.fe.sock, hdr, sizeof(hdr)) == sizeof(hdr), "a sends a 1 GiB claim");
		CHECK(wait_connected(t.ctl, "a", 0), "a is dropped");
		CHECK(create(&b, 5) == VIRTIO_GPU_RESP_OK_NODATA, "b is served");
		doc = control(t.ctl);
		CHECK(strstr(vgpu_string(doc, "a", "last_problem"), "payload") != NULL, "the reason is kept: '%s'",
		      vgpu_string(doc, "a", "last_problem"));
		json_object_put(doc);
		client_down(&a2);
		CHECK(client_up(&a2, t.a_sock) == 0 && create(&a2, 1) == VIRTIO_GPU_RESP_OK_NODATA,
		      "and can come back");
		client_down(&a2);
	}
	client_down(&b);
	stop(med_pid, t.log);
}

/* Field `key` of vGPU `name`'s health object, or -1. */
static int64_t health_field(json_object *doc, const char *name, const char *key)
{
	json_object *h = control_doc_field(doc, name, "health"), *f;

	return h && json_object_object_get_ex(h, key, &f) ? json_object_get_int64(f) : -1;
}

/* Reset and pause as QEMU's front-end does them (docs/mediator.md): a resume keeps the vGPU's resources, a ring
 * that restarts at 0 on a cleared ring or RESET_DEVICE drops them, a broken ring is served again after a reset,
 * and the neighbour never notices. */
static void test_reset(const char *dir)
{
	struct two t;
	struct client a, b;
	json_object *doc;
	uint32_t req;
	uint64_t proto;

	two_vgpus(&t, dir, "reset", NULL);
	char *argv[] = { (char *)mediator, "--vgpu", t.va, "--vgpu", t.vb, "--control", t.ctl, "--trace-vhost", NULL };

	med_pid = start(argv, t.log);
	CHECK(client_up(&a, t.a_sock) == 0 && client_up(&b, t.b_sock) == 0, "front-ends a and b up");
	CHECK(fe_send(&a.fe, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0) == 0 &&
		      fe_reply(&a.fe, &req, &proto, sizeof(proto)) == 8 &&
		      (proto & (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE)),
	      "RESET_DEVICE is offered (protocol features 0x%llx)", (unsigned long long)proto);
	for (uint32_t id = 1; id <= 3; id++)
		CHECK(create(&a, id) == VIRTIO_GPU_RESP_OK_NODATA, "a creates resource %u", id);
	CHECK(create(&b, 1) == VIRTIO_GPU_RESP_OK_NODATA, "b creates resource 1");

	CHECK(client_restart(&a, 0) == 0, "a's ring stops at %u and resumes there", a.used);
	CHECK(fe_mem_table(&a.fe, RAM, VHOST_USER_NEED_REPLY_MASK) == 0 && fe_ack(&a.fe, "SET_MEM_TABLE", NULL, 0) == 0,
	      "the same memory table again, as QEMU sends it on resume");
	CHECK(create(&a, 3) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "after the resume resource 3 still exists");

	/* Another table (16 KiB shorter): the backing of resource 2 moves to the new mapping, and stays usable. */
	{
		struct {
			struct virtio_gpu_resource_attach_backing a;
			struct virtio_gpu_mem_entry e;
		} ab = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, 2, 1 }, { 0x20000, 16 * 16 * 4, 0 } };
		struct virtio_gpu_transfer_to_host_2d tr = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D },
							     { 0, 0, 16, 16 }, 0, 2, 0 };
		json_object *mem;

		CHECK(client_cmd(&a, &ab, sizeof(ab)) == VIRTIO_GPU_RESP_OK_NODATA, "a backs resource 2");
		CHECK(fe_mem_table(&a.fe, RAM - 16384, VHOST_USER_NEED_REPLY_MASK) == 0 &&
			      fe_ack(&a.fe, "SET_MEM_TABLE", NULL, 0) == 0,
		      "another memory table");
		CHECK(client_cmd(&a, &tr, sizeof(tr)) == VIRTIO_GPU_RESP_OK_NODATA, "a transfer from the moved backing");
		doc = control(t.ctl);
		mem = control_doc_field(doc, "a", "memory");
		CHECK(mem && json_object_get_int64(json_object_object_get(mem, "remaps")) == 1 &&
			      json_object_get_int64(json_object_object_get(mem, "backings_moved")) == 1 &&
			      json_object_get_int64(json_object_object_get(mem, "backings_lost")) == 0 &&
			      json_object_object_get_ex(mem, "resources_2d_to_renderer", NULL),
		      "counted: %s", json_object_to_json_string(mem));
		json_object_put(doc);
	}
	doc = control(t.ctl);
	CHECK(vgpu_field(doc, "a", "resources") == 3, "a pause keeps a's 3 resources (%lld)",
	      (long long)vgpu_field(doc, "a", "resources"));
	CHECK(health_field(doc, "a", "resumes") == 1 && health_field(doc, "a", "resets") == 0,
	      "counted as a resume, not a reset (resumes %lld, resets %lld)", (long long)health_field(doc, "a", "resumes"),
	      (long long)health_field(doc, "a", "resets"));
	json_object_put(doc);

	CHECK(client_restart(&a, 1) == 0, "a's ring stops, then starts at 0 on a cleared ring (no RESET_DEVICE)");
	CHECK(create(&a, 1) == VIRTIO_GPU_RESP_OK_NODATA, "after the reset resource 1 is free again");
	doc = control(t.ctl);
	CHECK(vgpu_field(doc, "a", "resources") == 1, "the reset dropped a's old resources (%lld left)",
	      (long long)vgpu_field(doc, "a", "resources"));
	CHECK(health_field(doc, "a", "resets") == 1 &&
		      check_contains(json_object_get_string(control_doc_field(doc, "a", "health")), "restarted at 0, stopped at 6"),
	      "the reset is counted with how it was known: %s", json_object_get_string(control_doc_field(doc, "a", "health")));
	CHECK(vgpu_field(doc, "b", "resources") == 1, "b keeps its resource (%lld)",
	      (long long)vgpu_field(doc, "b", "resources"));
	json_object_put(doc);

	/* A descriptor outside guest RAM breaks a's ring; a RESET_DEVICE and fresh rings bring it back. */
	fe_offer(&a.fe, RING, a.qsz, a.head, 4ull * RAM, 64, OUT, 64, a.kick);
	CHECK(wait_field(t.ctl, "a", "broken", 1), "a descriptor outside RAM breaks a's ring");
	CHECK(create(&b, 2) == VIRTIO_GPU_RESP_OK_NODATA, "b is served while a is broken");
	CHECK(client_reset(&a) == 0, "a sends RESET_DEVICE and sets its ring up again");
	CHECK(wait_field(t.ctl, "a", "broken", 0), "a is no longer broken");
	CHECK(create(&a, 1) == VIRTIO_GPU_RESP_OK_NODATA, "a is served again, from an empty resource table");
	doc = control(t.ctl);
	CHECK(health_field(doc, "a", "resets") == 2 && health_field(doc, "a", "recoveries") == 1,
	      "the reset and the recovery are counted: %s", json_object_get_string(control_doc_field(doc, "a", "health")));
	CHECK(vgpu_field(doc, "a", "resources") == 1 && vgpu_field(doc, "b", "resources") == 2,
	      "a has 1 resource, b 2 (%lld, %lld)", (long long)vgpu_field(doc, "a", "resources"),
	      (long long)vgpu_field(doc, "b", "resources"));
	CHECK(health_field(doc, "b", "resets") == 0 && health_field(doc, "b", "ring_stops") == 0, "b saw no reset");
	json_object_put(doc);
	client_down(&a);
	client_down(&b);
	stop(med_pid, t.log);
}

/* 1 when the call eventfd gets a signal within ms (it is read), else 0. */
static int signalled_within(int call, int ms)
{
	struct pollfd p = { call, POLLIN, 0 };
	uint64_t v;

	return poll(&p, 1, ms) == 1 && read(call, &v, 8) == 8;
}

/* A lost interrupt: a driver that asked to hear of a used entry and was not told (here: it read the signal and
 * then never looked at the ring, its used_event left behind) is signalled again once, after a second of nothing
 * moving; one that caught up is not, nor is its neighbour. */
static void test_lost_signal(const char *dir)
{
	struct two t;
	struct client a, b;
	json_object *doc;

	two_vgpus(&t, dir, "lost", NULL);
	char *argv[] = { (char *)mediator, "--vgpu", t.va, "--vgpu", t.vb, "--control", t.ctl, NULL };

	med_pid = start(argv, t.log);
	CHECK(client_up(&a, t.a_sock) == 0 && client_up(&b, t.b_sock) == 0, "front-ends a and b up");
	CHECK(create(&a, 1) == VIRTIO_GPU_RESP_OK_NODATA && create(&b, 1) == VIRTIO_GPU_RESP_OK_NODATA,
	      "a and b each create a resource");
	fe_want_used(&b.fe, RING, b.qsz, (uint16_t)(b.used + 1)); /* b read its entry: it waits for the next */
	CHECK(!signalled_within(a.call, 700), "no second signal within 0.7 s");
	CHECK(signalled_within(a.call, 2500), "a, which still asks of an entry it was told of, is signalled again");
	CHECK(!signalled_within(a.call, 1600), "once only while nothing moves");
	CHECK(!signalled_within(b.call, 0), "b, which caught up, is not signalled");
	doc = control(t.ctl);
	CHECK(health_field(doc, "a", "resignals") == 1 && health_field(doc, "b", "resignals") == 0,
	      "counted for a alone: %s", json_object_get_string(control_doc_field(doc, "a", "health")));
	json_object_put(doc);
	CHECK(create(&a, 2) == VIRTIO_GPU_RESP_OK_NODATA, "a is served as before");
	client_down(&a);
	client_down(&b);
	stop(med_pid, t.log);
	char *log = vb_read_file(t.log, NULL);

	CHECK(log && strstr(log, "vgpu a: its driver waited 1000 ms or more for a signal it should have had") &&
		      !strstr(log, "vgpu b: its driver waited"),
	      "the mediator's log says so, of a alone");
	free(log);
}

/* One command whose answer is resp_len bytes (up to 4 KiB) into resp; its type, or 0 when none came within 5 s. */
static uint32_t cmd_into(struct client *c, const void *cmd, uint32_t len, void *resp, uint32_t resp_len)
{
	struct virtio_gpu_ctrl_hdr h;

	memcpy(c->fe.ram + IN, cmd, len);
	memset(c->fe.ram + OUT, 0, resp_len);
	fe_post(&c->fe, RING, c->qsz, c->head, IN, len, OUT, resp_len);
	c->head = (uint16_t)((c->head + 2) % c->qsz);
	fe_want_used(&c->fe, RING, c->qsz, (uint16_t)(c->used + 1));
	if (fe_kick(c->kick) < 0 || fe_wait_used(&c->fe, RING, c->call, (uint16_t)(c->used + 1), 5000) < 0)
		return 0;
	c->used++;
	memcpy(resp, c->fe.ram + OUT, resp_len);
	memcpy(&h, resp, sizeof(h));
	return h.type;
}

/* Output i's frame: resource i + 1 (16x16) backed at BACK(i) in the colour of output i, shown on scanout i and
 * flushed. 0 or -1. */
#define BACK(i) (0x20000u + 0x1000u * (i))
#define COLOUR(i) (0x00102030u + 0x00080808u * (i))
static int output_frame(struct client *c, uint32_t i)
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} ab = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, i + 1, 1 }, { BACK(i), 16 * 16 * 4, 0 } };
	struct virtio_gpu_transfer_to_host_2d tr = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D }, { 0, 0, 16, 16 },
						     0, i + 1, 0 };
	struct virtio_gpu_set_scanout so = { { .type = VIRTIO_GPU_CMD_SET_SCANOUT }, { 0, 0, 16, 16 }, i, i + 1 };
	struct virtio_gpu_resource_flush fl = { { .type = VIRTIO_GPU_CMD_RESOURCE_FLUSH }, { 0, 0, 16, 16 }, i + 1, 0 };
	uint32_t px = COLOUR(i);

	for (int k = 0; k < 16 * 16; k++)
		memcpy(c->fe.ram + BACK(i) + 4 * k, &px, 4);
	return create(c, i + 1) == VIRTIO_GPU_RESP_OK_NODATA &&
			       client_cmd(c, &ab, sizeof(ab)) == VIRTIO_GPU_RESP_OK_NODATA &&
			       client_cmd(c, &tr, sizeof(tr)) == VIRTIO_GPU_RESP_OK_NODATA &&
			       client_cmd(c, &so, sizeof(so)) == VIRTIO_GPU_RESP_OK_NODATA &&
			       client_cmd(c, &fl, sizeof(fl)) == VIRTIO_GPU_RESP_OK_NODATA
		       ? 0
		       : -1;
}

/* A vGPU of 16 outputs (outputs=16, the first two with modes, the rest the default): its config space, display
 * info and EDIDs say so, a scanout past them is refused to the guest, each output's frame reaches the display
 * channel on its own scanout, and the control socket counts them by output; its neighbour keeps one output. */
static void test_outputs(const char *dir)
{
	struct two t;
	struct client a, b;
	struct fe_display da;
	struct virtio_gpu_resp_display_info di;
	struct virtio_gpu_resp_edid ed;
	struct virtio_gpu_ctrl_hdr q = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	struct virtio_gpu_cmd_get_edid ge = { { .type = VIRTIO_GPU_CMD_GET_EDID }, 1, 0 };
	struct virtio_gpu_set_scanout past = { { .type = VIRTIO_GPU_CMD_SET_SCANOUT }, { 0, 0, 16, 16 }, 16, 1 };
	struct vhost_config cfg = { .offset = 8, .size = 4 };
	uint32_t req, n = 0, seen = 0, sum = 0;
	json_object *doc, *outs;

	two_vgpus(&t, dir, "outputs", "outputs=16,modes=1920x1080:1280x1024");
	char *argv[] = { (char *)mediator, "--vgpu", t.va, "--vgpu", t.vb, "--control", t.ctl, NULL };

	med_pid = start(argv, t.log);
	CHECK(client_up(&a, t.a_sock) == 0 && client_up(&b, t.b_sock) == 0, "front-ends a and b up");
	CHECK(fe_send(&a.fe, VHOST_USER_GET_CONFIG, 0, &cfg, 12 + 4, NULL, 0) == 0 &&
		      fe_reply(&a.fe, &req, &cfg, sizeof(cfg)) == 16 && (memcpy(&n, cfg.data, 4), n == 16),
	      "a's config space: 16 scanouts (%u)", n);
	CHECK(cmd_into(&a, &q, sizeof(q), &di, sizeof(di)) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO &&
		      di.pmodes[0].enabled && di.pmodes[0].r.width == 1920 && di.pmodes[0].r.height == 1080 &&
		      di.pmodes[1].r.width == 1280 && di.pmodes[1].r.height == 1024 && di.pmodes[15].enabled &&
		      di.pmodes[15].r.width == 1024 && di.pmodes[15].r.height == 768,
	      "a's display info: 1920x1080, 1280x1024, then 1024x768 up to output 16 (%ux%u, %ux%u, %ux%u)",
	      di.pmodes[0].r.width, di.pmodes[0].r.height, di.pmodes[1].r.width, di.pmodes[1].r.height,
	      di.pmodes[15].r.width, di.pmodes[15].r.height);
	CHECK(cmd_into(&a, &ge, sizeof(ge), &ed, sizeof(ed)) == VIRTIO_GPU_RESP_OK_EDID && ed.size == 128 &&
		      (ed.edid[56] | (ed.edid[58] >> 4) << 8) == 1280 &&
		      (ed.edid[59] | (ed.edid[61] >> 4) << 8) == 1024 &&
		      (ed.edid[24] & 2),
	      "output 2's EDID prefers 1280x1024 (%u x %u)", ed.edid[56] | (ed.edid[58] >> 4) << 8,
	      ed.edid[59] | (ed.edid[61] >> 4) << 8);
	for (int i = 0; i < 128; i++)
		sum += ed.edid[i];
	CHECK(sum % 256 == 0 && !memcmp(ed.edid, "\0\xff\xff\xff\xff\xff\xff\0", 8), "a valid EDID block");
	CHECK(cmd_into(&b, &q, sizeof(q), &di, sizeof(di)) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO && di.pmodes[0].enabled &&
		      !di.pmodes[1].enabled,
	      "b keeps one output");

	CHECK(fe_display_start(&a.fe, &da, 1920, 1080, 0) == 0, "a's display channel");
	for (uint32_t i = 0; i < 16; i++)
		CHECK(output_frame(&a, i) == 0, "a's output %u shows its frame", i + 1);
	CHECK(client_cmd(&a, &past, sizeof(past)) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
	      "scanout 16 (the 17th) is refused to the guest");
	for (double end = vb_now() + 10; vb_now() < end && seen < 16; usleep(20000)) {
		seen = 0;
		for (uint32_t i = 0; i < 16; i++)
			seen += da.updates[i] > 0 && (da.last_pixel[i] & 0xffffff) == COLOUR(i) && da.shown_w[i] == 16;
	}
	CHECK(seen == 16, "every output's last frame on the display channel is what its guest drew (%u of 16)", seen);
	doc = control(t.ctl);
	outs = control_doc_field(doc, "a", "outputs");
	json_object *first = outs ? json_object_array_get_idx(outs, 0) : NULL;
	json_object *last = outs ? json_object_array_get_idx(outs, 15) : NULL;
	const char *mode0 = first ? json_object_get_string(json_object_object_get(first, "mode")) : NULL;

	CHECK(outs && json_object_array_length(outs) == 16 && mode0 && !strcmp(mode0, "1920x1080") &&
		      json_object_get_int64(json_object_object_get(last, "display_updates")) >= 1 &&
		      json_object_get_int64(json_object_object_get(last, "resource")) == 16,
	      "the control socket lists a's 16 outputs with their modes and updates: %.300s",
	      outs ? json_object_to_json_string(outs) : "(none)");
	outs = control_doc_field(doc, "b", "outputs");
	CHECK(outs && json_object_array_length(outs) == 1 &&
		      json_object_object_get(json_object_array_get_idx(outs, 0), "mode") == NULL,
	      "and b's one, the front-end's mode: %s", outs ? json_object_to_json_string(outs) : "(none)");
	json_object_put(doc);
	fe_display_stop(&da);
	client_down(&a);
	client_down(&b);
	stop(med_pid, t.log);
}

/* Field `key` of the mediator's sandbox object, as a JSON string ("" when absent). */
static const char *sandbox_field(json_object *doc, const char *key)
{
	json_object *m, *sb, *f;

	if (doc && json_object_object_get_ex(doc, "mediator", &m) && json_object_object_get_ex(m, "sandbox", &sb) &&
	    json_object_object_get_ex(sb, key, &f))
		return json_object_to_json_string(f);
	return "";
}

/* The sandbox (sandbox.h): --sandbox-self-test is killed by its forbidden call after a refused one; a serving
 * mediator is confined (as nobody when started as root) and refuses nothing a front-end makes it do;
 * --no-sandbox says so on the control socket. */
static void test_sandbox(const char *dir)
{
	char *self[] = { (char *)mediator, "--sandbox-self-test", NULL };
	char sock[256], ctl[256], log[256], spec[300];
	struct client a;
	json_object *doc;
	int st;
	char *out = vb_capture(self, &st);

	CHECK(out && strstr(out, "socket(AF_INET) refused (EPERM)"), "the self-test's socket() is refused: %s",
	      out ? out : "");
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "and its execve kills it with SIGSYS (status 0x%x)", st);
	free(out);

	snprintf(sock, sizeof(sock), "%s/sa.sock", dir);
	snprintf(ctl, sizeof(ctl), "%s/scontrol.sock", dir);
	snprintf(log, sizeof(log), "%s/sandbox.log", dir);
	snprintf(spec, sizeof(spec), "name=a,socket=%s", sock);
	for (int off = 0; off < 2; off++) {
		char *argv[] = { (char *)mediator, "--vgpu", spec, "--control", ctl, off ? "--no-sandbox" : NULL, NULL };

		med_pid = start(argv, log);
		CHECK(client_up(&a, sock) == 0 && create(&a, 1) == VIRTIO_GPU_RESP_OK_NODATA, "a front-end is served");
		doc = control(ctl);
		if (off) {
			CHECK(!strcmp(sandbox_field(doc, "on"), "false") && strstr(sandbox_field(doc, "mode"), "--no-sandbox"),
			      "--no-sandbox shows: %s", sandbox_field(doc, "mode"));
		} else {
			CHECK(!strcmp(sandbox_field(doc, "on"), "true"), "the mediator is confined: %s",
			      sandbox_field(doc, "mode"));
			CHECK(geteuid() != 0 || !strcmp(sandbox_field(doc, "user"), "\"nobody\""),
			      "started as root it runs as nobody: %s", sandbox_field(doc, "user"));
			CHECK(!strcmp(sandbox_field(doc, "refused_syscalls"), "{ }"), "nothing was refused: %s",
			      sandbox_field(doc, "refused_syscalls"));
		}
		json_object_put(doc);
		client_down(&a);
		stop(med_pid, log);
		CHECK(access(sock, F_OK) != 0 && access(ctl, F_OK) != 0, "its socket files are gone after it (%s)",
		      off ? "unconfined" : "confined");
	}
}

static void test_listen(const char *dir)
{
	char ldir[256], sock[300], ctl[300], log[256];
	struct client c1, c2;
	json_object *doc, *arr;

	snprintf(ldir, sizeof(ldir), "%s/listen", dir);
	snprintf(sock, sizeof(sock), "%s/vgpu.sock", ldir);
	snprintf(ctl, sizeof(ctl), "%s/control.sock", ldir);
	snprintf(log, sizeof(log), "%s/listen.log", dir);
	CHECK(vb_mkdirs(ldir, 0755) == 0, "listen dir");
	char *argv[] = { (char *)mediator, "--listen", ldir, NULL };

	med_pid = start(argv, log);
	CHECK(client_up(&c1, sock) == 0 && client_up(&c2, sock) == 0, "two front-ends on the one socket");
	CHECK(create(&c1, 1) == VIRTIO_GPU_RESP_OK_NODATA && create(&c2, 1) == VIRTIO_GPU_RESP_OK_NODATA,
	      "each has its own vGPU (both create resource 1)");
	doc = control(ctl);
	CHECK(doc && json_object_object_get_ex(doc, "vgpus", &arr) && json_object_array_length(arr) == 2,
	      "the control socket lists 2 vGPUs");
	json_object_put(doc);
	client_down(&c1);
	for (int i = 0; i < 100; i++) {
		size_t n = 99;

		doc = control(ctl);
		if (doc && json_object_object_get_ex(doc, "vgpus", &arr))
			n = json_object_array_length(arr);
		json_object_put(doc);
		if (n == 1)
			break;
		usleep(50000);
	}
	CHECK(create(&c2, 2) == VIRTIO_GPU_RESP_OK_NODATA, "the other goes on");
	doc = control(ctl);
	CHECK(doc && json_object_object_get_ex(doc, "vgpus", &arr) && json_object_array_length(arr) == 1,
	      "a vGPU from --listen goes away with its connection");
	json_object_put(doc);
	client_down(&c2);
	stop(med_pid, log);
	CHECK(access(sock, F_OK) != 0, "the socket is removed on exit");
}

#define BIG_RAM (8u << 20)
#define BIG_QSZ 64
#define PIXELS 0x100000 /* the resource's backing: 1024x1024 BGRX, 4 MiB */

/* A 1024x1024 resource with its backing, and the transfer command that streams it, at IN. 0 or -1. */
static int stream_setup(struct client *c)
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} ab = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, 1, 1 }, { PIXELS, 4u << 20, 0 } };
	struct virtio_gpu_resource_create_2d cr = { { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D }, 1,
						    VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 1024, 1024 };
	struct virtio_gpu_transfer_to_host_2d t = {
	    {.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D}, {0, 0, 1024, 1024}, 0, 1, 0};

	if (client_cmd(c, &cr, sizeof(cr)) != VIRTIO_GPU_RESP_OK_NODATA ||
	    client_cmd(c, &ab, sizeof(ab)) != VIRTIO_GPU_RESP_OK_NODATA)
		return -1;
	memcpy(c->fe.ram + IN, &t, sizeof(t));
	return 0;
}

/* Keep both clients' queues full of full-frame transfers for `secs` seconds. 0, or -1 when one stopped being
 * answered. */
static int stream(struct client *cl, int n, double secs)
{
	uint16_t posted[2] = { 0, 0 };
	double end = vb_now() + secs, last[2] = { vb_now(), vb_now() };

	for (int k = 0; k < n; k++)
		posted[k] = cl[k].used;
	while (vb_now() < end) {
		struct pollfd p[2];

		for (int k = 0; k < n; k++) {
			struct client *c = &cl[k];

			c->used = fe_used_idx(&c->fe, RING);
			if (c->used != posted[k]) {
				if (vb_now() - last[k] > 5.0) {
					fprintf(stderr, "client %d: no answer for 5 s\n", k);
					return -1;
				}
				continue;
			}
			/* All answered: post a full ring's worth again (two descriptors a chain). */
			for (uint16_t h = 0; h < c->qsz; h += 2)
				fe_post(&c->fe, RING, c->qsz, h, IN, sizeof(struct virtio_gpu_transfer_to_host_2d), OUT,
					64);
			posted[k] = (uint16_t)(posted[k] + c->qsz / 2);
			fe_want_used(&c->fe, RING, c->qsz, posted[k]);
			fe_kick(c->kick);
			last[k] = vb_now();
		}
		for (int k = 0; k < n; k++)
			p[k] = (struct pollfd){ .fd = cl[k].call, .events = POLLIN };
		if (poll(p, (nfds_t)n, 10) > 0)
			for (int k = 0; k < n; k++) {
				uint64_t v;

				if (p[k].revents & POLLIN)
					(void)!read(cl[k].call, &v, sizeof(v));
			}
	}
	/* Let what is posted finish, so the next phase starts from empty queues. */
	for (int k = 0; k < n; k++)
		if (fe_wait_used(&cl[k].fe, RING, cl[k].call, posted[k], 5000) < 0)
			return -1;
		else
			cl[k].used = posted[k];
	return 0;
}

/* Share of a's GPU time between two control documents. */
static double share_a(json_object *before, json_object *after)
{
	double a = gpu_ms(after, "a") - gpu_ms(before, "a"), b = gpu_ms(after, "b") - gpu_ms(before, "b");

	return a + b > 0 ? a / (a + b) : -1;
}

/* How far a measured share may be from the configured one. A turn is not cut inside a chunk of commands, so a
 * vGPU can overrun its share by up to a chunk's time each period: under ThreadSanitizer (this test built with it
 * drives the TSan mediator) a chunk of 4 MiB copies takes several times longer, and b's 25% comes out near 31%. */
#if defined(__SANITIZE_THREAD__)
#define SHARE_TOLERANCE 0.10
#else
#define SHARE_TOLERANCE 0.05
#endif

static void test_shares(const char *dir)
{
	struct two t;
	struct client c[2];
	json_object *d0, *d1, *d2, *r, *sc, *f;
	double sa;

	two_vgpus(&t, dir, "shares", "weight=3");
	char *argv[] = { (char *)mediator, "--no-virgl", "--policy", "fixed-share", "--vgpu", t.va, "--vgpu", t.vb,
			 "--control", t.ctl, NULL };

	med_pid = start(argv, t.log);
	CHECK(client_open(&c[0], t.a_sock, BIG_RAM, BIG_QSZ) == 0 && stream_setup(&c[0]) == 0, "a streams 4 MiB frames");
	CHECK(client_open(&c[1], t.b_sock, BIG_RAM, BIG_QSZ) == 0 && stream_setup(&c[1]) == 0, "b streams 4 MiB frames");

	d0 = control(t.ctl);
	sc = control_doc_field(d0, "a", "sched");
	CHECK(sc && json_object_object_get_ex(sc, "share", &f) && fabs(json_object_get_double(f) - 0.75) < 1e-9,
	      "the control socket gives a its configured share of 0.75");
	CHECK(stream(c, 2, 3.0) == 0, "both are answered throughout");
	d1 = control(t.ctl);
	sa = share_a(d0, d1);
	printf("fixed share 3:1 over 3 s: a %.3f, b %.3f of the GPU time\n", sa, 1 - sa);
	CHECK(fabs(sa - 0.75) <= SHARE_TOLERANCE, "fixed share 3:1: a got %.3f of the GPU time (b %.3f)", sa, 1 - sa);
	sc = control_doc_field(d1, "b", "sched");
	CHECK(sc && json_object_object_get_ex(sc, "throttled_ms", &f) && json_object_get_double(f) > 0,
	      "b was held back by its share");

	r = control_req(t.ctl, "set b weight=3\n");
	CHECK(answer_ok(r), "weight set over the control socket: %s", r ? json_object_to_json_string(r) : "no answer");
	json_object_put(r);
	usleep(200 * 1000);
	d1 = (json_object_put(d1), control(t.ctl));
	CHECK(stream(c, 2, 3.0) == 0, "both are answered after the change");
	d2 = control(t.ctl);
	sa = share_a(d1, d2);
	printf("fixed share 3:3 over 3 s: a %.3f, b %.3f of the GPU time\n", sa, 1 - sa);
	CHECK(fabs(sa - 0.5) <= SHARE_TOLERANCE, "then 3:3: a got %.3f", sa);

	r = control_req(t.ctl, "set nobody weight=2\n");
	CHECK(r && !answer_ok(r) && check_contains(json_object_to_json_string(r), "no vGPU named"),
	      "an unknown vGPU is refused by name");
	json_object_put(r);
	r = control_req(t.ctl, "set a weight=0\n");
	CHECK(r && !answer_ok(r), "weight 0 is refused");
	json_object_put(r);
	r = control_req(t.ctl, "policy round-robin\n");
	CHECK(r && !answer_ok(r), "an unknown policy is refused");
	json_object_put(r);
	r = control_req(t.ctl, "policy equal-share\n");
	CHECK(answer_ok(r), "the policy changes at run time");
	json_object_put(r);
	r = control_req(t.ctl, NULL);
	CHECK(r && json_object_object_get_ex(r, "mediator", &f) && json_object_object_get_ex(f, "scheduler", &sc) &&
		      json_object_object_get_ex(sc, "policy", &f) && !strcmp(json_object_get_string(f), "equal-share"),
	      "a client that only reads gets the counters, with the new policy");
	json_object_put(r);

	/* Work-conserving fixed share 3:1 with a idle: b is past its quarter at once, and never held for it. */
	r = control_req(t.ctl, "set b weight=1\n");
	json_object_put(r);
	r = control_req(t.ctl, "policy fixed-share-wc\n");
	CHECK(answer_ok(r), "fixed-share-wc is a policy");
	json_object_put(r);
	d1 = (json_object_put(d1), control(t.ctl));
	CHECK(stream(c + 1, 1, 2.0) == 0, "b streams alone");
	d2 = (json_object_put(d2), control(t.ctl));
	{
		json_object *s1 = control_doc_field(d1, "b", "sched"), *s2 = control_doc_field(d2, "b", "sched");
		json_object *h1, *h2, *p1, *p2, *sh;

		CHECK(s1 && s2 && json_object_object_get_ex(s1, "throttles", &h1) &&
			      json_object_object_get_ex(s2, "throttles", &h2) &&
			      json_object_object_get_ex(s1, "spare_turns", &p1) &&
			      json_object_object_get_ex(s2, "spare_turns", &p2) &&
			      json_object_object_get_ex(s2, "share", &sh),
		      "b's scheduler counters");
		if (s1 && s2 && h1 && h2 && p1 && p2 && sh) {
			printf("fixed-share-wc, b alone for 2 s: share %.2f, %lld spare turns, %lld holds\n",
			       json_object_get_double(sh), (long long)(json_object_get_int64(p2) - json_object_get_int64(p1)),
			       (long long)(json_object_get_int64(h2) - json_object_get_int64(h1)));
			CHECK(fabs(json_object_get_double(sh) - 0.25) < 1e-9, "b's share is still a quarter");
			CHECK(json_object_get_int64(p2) > json_object_get_int64(p1), "b was served past its share");
			CHECK(json_object_get_int64(h2) == json_object_get_int64(h1), "b was never held: a wanted nothing");
		}
	}
	json_object_put(d0);
	json_object_put(d1);
	json_object_put(d2);
	client_down(&c[0]);
	client_down(&c[1]);
	stop(med_pid, t.log);
}

/* --throttle 50: one vGPU streaming full frames is served half the time: the pauses taken add up to the renderer
 * time charged (less what is still owed, under a pause), and the vGPU is answered throughout. */
static void test_throttle(const char *dir)
{
	struct two t;
	struct client c;
	json_object *d0, *d1;

	two_vgpus(&t, dir, "throttle", NULL);
	char *argv[] = { (char *)mediator, "--no-virgl", "--throttle", "50", "--copy-threads", "2", "--vgpu", t.va,
			 "--control", t.ctl, NULL };
	char *bad[] = { (char *)mediator, "--no-virgl", "--throttle", "95", "--vgpu", t.va, NULL };
	pid_t pid = vb_spawn(bad, NULL, t.log);

	CHECK(pid > 0 && WIFEXITED(vb_reap(pid, 10.0)), "--throttle 95 is refused");
	bad[2] = "--copy-threads";
	bad[3] = "16";
	pid = vb_spawn(bad, NULL, t.log);
	CHECK(pid > 0 && WIFEXITED(vb_reap(pid, 10.0)), "--copy-threads 16 is refused");
	bad[2] = "--display-threads";
	pid = vb_spawn(bad, NULL, t.log);
	CHECK(pid > 0 && WIFEXITED(vb_reap(pid, 10.0)), "--display-threads 16 is refused");
	bad[2] = "--display-fps";
	bad[3] = "1001";
	pid = vb_spawn(bad, NULL, t.log);
	{
		int st = pid > 0 ? vb_reap(pid, 10.0) : -1;
		char *log = vb_read_file(t.log, NULL);

		CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2 && log && check_contains(log, "--display-fps 1001"),
		      "--display-fps 1001 is refused with its reason: %s", log ? log : "(no log)");
		free(log);
	}
	med_pid = start(argv, t.log);
	CHECK(client_open(&c, t.a_sock, BIG_RAM, BIG_QSZ) == 0 && stream_setup(&c) == 0, "a streams 4 MiB frames");
	d0 = control(t.ctl);
	CHECK(sched_number(d0, "throttle_pct") == 50, "the control socket says the throttle is 50%%");
	{
		json_object *hz = control_doc_field(d0, "a", "display_refresh_hz"), *path = control_doc_field(d0, "a", "display_path");

		CHECK(hz && fabs(json_object_get_double(hz) - 60) < 0.01 && path && !strcmp(json_object_get_string(path), "copy"),
		      "display updates at the default 60 a second, copied through the display socket");
	}
	CHECK(stream(&c, 1, 2.0) == 0, "a is answered throughout under the throttle");
	d1 = control(t.ctl);
	double charged = gpu_ms(d1, "a") - gpu_ms(d0, "a");
	double paused = sched_number(d1, "throttle_paused_ms") - sched_number(d0, "throttle_paused_ms");

	printf("throttle 50%% over 2 s: %.0f ms charged, %.0f ms paused\n", charged, paused);
	CHECK(charged > 100 && paused > charged - 250 && paused < charged + 250,
	      "the pauses match the time charged at 50%%: %.0f ms paused for %.0f ms charged", paused, charged);
	CHECK(sched_number(d1, "throttle_pauses") > 0, "pauses are counted");
	{
		json_object *m = NULL, *th = NULL, *sp = NULL, *dt = NULL, *ds = NULL;

		json_object_object_get_ex(d1, "mediator", &m);
		CHECK(m && json_object_object_get_ex(m, "copy_threads", &th) && json_object_get_int(th) == 2 &&
			      json_object_object_get_ex(m, "copies_split", &sp) && json_object_get_int64(sp) > 0,
		      "two copy threads, and the 4 MiB transfers were shared with them");
		CHECK(m && json_object_object_get_ex(m, "display_threads", &dt) && json_object_get_int(dt) == 1 &&
			      json_object_object_get_ex(m, "display_sends", &ds) && json_object_get_int64(ds) == 0,
		      "one display-sender thread by default, idle with no display channel");
	}
	json_object_put(d0);
	json_object_put(d1);
	client_down(&c);
	stop(med_pid, t.log);
}

/* The command line (loop/options.c): each bad one exits 2 and says what is wrong, --help lists every option and
 * exits 0, and nothing is left running. */
static void test_command_line(const char *dir)
{
	static const struct {
		const char *args[4];
		int rc;
		const char *says;
	} cases[] = {
		{ { "--help" }, 0, "--render-workers" },
		{ { "--help" }, 0, "POLICY: best-effort" },
		{ { "--bogus" }, 2, "unknown argument '--bogus'" },
		{ { "--listen", dir_placeholder, "stray" }, 2, "unknown argument 'stray'" },
		{ { "--policy" }, 2, "--policy needs a value" },
		{ { "--policy", "nope" }, 2, "--policy nope: not one of best-effort" },
		{ { "--timeslice-ms", "0" }, 2, "--timeslice-ms 0: milliseconds, 1 to 1000" },
		{ { "--watchdog-action", "shrug" }, 2, "report or quarantine" },
		{ { "--vgpu", "name=a" }, 2, "needs name= and socket=" },
		{ { "--vgpu", "name=a,socket=/tmp/x,weight=0" }, 2, "weight must be 1 to" },
		{ { "--vgpu", "name=a,socket=/tmp/x,outputs=0" }, 2, "outputs must be 1 to 16" },
		{ { "--vgpu", "name=a,socket=/tmp/x,outputs=17" }, 2, "outputs must be 1 to 16" },
		{ { "--vgpu", "name=a,socket=/tmp/x,modes=0x0" }, 2, "mode 0x0 of output 1: each side 64 to 4095" },
		{ { "--vgpu", "name=a,socket=/tmp/x,modes=100000x100000" }, 2, "mode 100000x100000 of output 1" },
		{ { "--vgpu", "name=a,socket=/tmp/x,outputs=1,modes=800x600:640x480" }, 2, "2 modes for 1 output" },
		{ { "--vgpu", "name=a,socket=/tmp/x,modes=800by600" }, 2, "mode '800by600' is not WIDTHxHEIGHT" },
		{ { "--vtest", "name=a,socket=/tmp/x,outputs=2" }, 2, "unknown key in 'outputs=2'" },
		{ { "--vgpu", "name=a,socket=/tmp/x", "--vtest" }, 2, "--vtest needs a value" },
		{ { NULL }, 2, "usage: vgpu-mediator" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[6] = { (char *)mediator }, log[300];
		size_t len = 0;
		char *out;
		int st, k = 1;

		for (int a = 0; a < 4 && cases[i].args[a]; a++)
			argv[k++] = (char *)(cases[i].args[a] == dir_placeholder ? dir : cases[i].args[a]);
		snprintf(log, sizeof(log), "%s/command-line-%zu.log", dir, i); /* vb_spawn appends */
		st = vb_reap(vb_spawn(argv, NULL, log), 10.0);
		out = vb_read_file_max(log, 1 << 20, &len);
		CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == cases[i].rc && out && strstr(out, cases[i].says),
		      "command line %s %s %s: exit %d, says '%s' (status 0x%x: %.200s)", argv[1] ? argv[1] : "(none)",
		      argv[2] ? argv[2] : "", argv[3] ? argv[3] : "", cases[i].rc, cases[i].says, st, out ? out : "");
		free(out);
	}
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/vgpu-mediator-test.XXXXXX";

	if (argc < 2) {
		fprintf(stderr, "usage: mediator_process_test PATH/vgpu-mediator\n");
		return 2;
	}
	mediator = argv[1];
	signal(SIGPIPE, SIG_IGN);
	CHECK(mkdtemp(dir) != NULL, "temp dir");
	test_command_line(dir);
	test_named(dir);
	test_reset(dir);
	test_lost_signal(dir);
	test_outputs(dir);
	test_sandbox(dir);
	test_listen(dir);
	test_throttle(dir);
	test_shares(dir);
	if (!check_failed)
		vb_rm_rf(dir);
	else
		fprintf(stderr, "mediator logs kept in %s\n", dir);
	return check_done("mediator_process");
}
