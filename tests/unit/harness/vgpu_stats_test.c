/* vgpu_stats_test.c: reading the mediator's per-vGPU scheduling counters
 * from its control JSON (present, absent, malformed), differences over a job
 * (a counter that went back means the vGPU reconnected; a job without a
 * watchdog trip has no longest stall), and the sampler
 * thread against a control socket played by this test, which answers each
 * "stats" request with a larger GPU time. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "configs/gpu_backend.h"
#include "util.h"
#include "configs/vgpu_stats.h"

static const char doc[] =
	"{ \"mediator\": { \"scheduler\": { \"policy\": \"fixed-share\" } },"
	"  \"vgpus\": [ { \"name\": \"guest1\", \"sched\": { \"weight\": 2, \"target_fps\": 0, \"share\": 0.5,"
	"  \"gpu_ms\": 120.5, \"gpu_sync_ms\": 20, \"gpu_async_ms\": 100.5, \"overlap_ms\": 3, \"queued_ms\": 40,"
	"  \"throttled_ms\": 10, \"batches\": 7, \"turns\": 9, \"throttles\": 1, \"frames\": 30, \"windows\": 2,"
	"  \"windows_met\": 1 }, \"errors\": 4, \"health\": { \"resets\": 2, \"recoveries\": 1 },"
	"  \"watchdog\": { \"trips\": 1, \"longest_ms\": 5236.5 } },"
	"  { \"name\": \"guest2\", \"sched\": { \"share\": null, \"gpu_ms\": 5 } },"
	"  { \"name\": \"guest3\" } ] }";

static int listen_fd;
static int served;

/* Answer requests until told to stop (a connection that sends "quit"). */
static void *server(void *arg)
{
	(void)arg;
	for (;;) {
		char req[64] = "", ans[256];
		int fd = accept(listen_fd, NULL, NULL);
		ssize_t n;

		if (fd < 0)
			return NULL;
		n = read(fd, req, sizeof(req) - 1);
		if (n > 0 && !strncmp(req, "quit", 4)) {
			close(fd);
			return NULL;
		}
		served++;
		snprintf(ans, sizeof(ans),
			 "{\"vgpus\":[{\"name\":\"guest1\",\"sched\":{\"gpu_ms\":%d,\"frames\":%d}}]}", served * 100,
			 served);
		(void)!write(fd, ans, strlen(ans));
		close(fd);
	}
}

int main(void)
{
	struct vgpu_stats a, b, d;
	struct vgpu_sampler sp;
	char path[] = "/tmp/vgpu-stats-test-XXXXXX", sock[100];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *names[] = { "guest1", "guest9" };
	pthread_t th;
	char *ans;

	CHECK(vgpu_stats_parse(doc, "guest1", &a) == 0 && a.present, "guest1 is there");
	CHECK(a.gpu_ms == 120.5 && a.sync_ms == 20 && a.async_ms == 100.5 && a.share == 0.5 && a.weight == 2 &&
		      a.frames == 30 && a.windows_met == 1 && !strcmp(a.policy, "fixed-share"),
	      "its counters and the policy");
	CHECK(a.errors == 4 && a.resets == 2 && a.recoveries == 1 && a.watchdog_trips == 1 &&
		      a.watchdog_longest_ms == 5236.5,
	      "its health: errors, resets, recoveries, watchdog");
	CHECK(vgpu_stats_parse(doc, "guest2", &b) == 0 && b.share < 0 && b.weight == 1 && b.gpu_ms == 5,
	      "a null share is none; missing numbers take their defaults");
	CHECK(vgpu_stats_parse(doc, "guest3", &b) < 0 && !b.present, "a vGPU without a sched object");
	CHECK(vgpu_stats_parse(doc, "guest4", &b) < 0 && !b.present, "a vGPU that is not there");
	CHECK(vgpu_stats_parse("{\"vgpus\": 3}", "guest1", &b) < 0, "vgpus that is no array");
	CHECK(vgpu_stats_parse("not json", "guest1", &b) < 0, "not JSON");
	CHECK(vgpu_stats_parse(NULL, "guest1", &b) < 0, "no document");

	b = a;
	b.gpu_ms = 220.5;
	b.frames = 10; /* went back: a new connection counts from zero */
	CHECK(vgpu_stats_delta(&a, &b, &d) == 0 && d.gpu_ms == 100 && d.frames == 10 && d.share == 0.5,
	      "differences: %f %f", d.gpu_ms, d.frames);
	CHECK(d.watchdog_trips == 0 && d.watchdog_longest_ms == 0 && d.resets == 0,
	      "no trip during the job: no longest stall is charged to it");
	b.watchdog_trips = 3;
	b.watchdog_longest_ms = 7000;
	CHECK(vgpu_stats_delta(&a, &b, &d) == 0 && d.watchdog_trips == 2 && d.watchdog_longest_ms == 7000,
	      "two trips during the job, the longest 7 s");
	b.present = 0;
	CHECK(vgpu_stats_delta(&a, &b, &d) < 0, "no difference without both");
	CHECK(!a.stages_present, "a mediator without stage histograms: none taken");

	/* stage histograms: taken bucket by bucket, checked, and differenced */
	{
		char *sd = vb_strdupf("{\"vgpus\":[{\"name\":\"g\",\"sched\":{},\"stages\":{"
				      "\"kick_wait\":{\"count\":3,\"total_ms\":0.006,\"max_us\":2.5,\"hist\":[[1,2],[5,1]]},"
				      "\"check\":{\"count\":0,\"total_ms\":0,\"hist\":[]},\"render\":{\"count\":0,\"hist\":[]},"
				      "\"fence\":{\"count\":1,\"total_ms\":4,\"max_us\":4000,\"hist\":[[%u,1]]},"
				      "\"readback\":{\"count\":0,\"hist\":[]},\"display_send\":{\"count\":0,\"hist\":[]}}}]}",
				      stage_bucket(4000000));
		struct vgpu_stats s1, s2, sdelta;

		CHECK(vgpu_stats_parse(sd, "g", &s1) == 0 && s1.stages_present && s1.stage[STAGE_KICK_WAIT].count == 3 &&
			      s1.stage[STAGE_KICK_WAIT].b[1] == 2 && s1.stage[STAGE_KICK_WAIT].b[5] == 1 &&
			      s1.stage[STAGE_FENCE].total_ns == 4000000,
		      "stages read: counts, buckets, totals");
		s2 = s1;
		stage_record(&s2.stage[STAGE_FENCE], 8000000);
		stage_record(&s2.stage[STAGE_FENCE], 8000000);
		CHECK(vgpu_stats_delta(&s1, &s2, &sdelta) == 0 && sdelta.stages_present &&
			      sdelta.stage[STAGE_FENCE].count == 2 && sdelta.stage[STAGE_KICK_WAIT].count == 0 &&
			      stage_percentile(&sdelta.stage[STAGE_FENCE], 50) >= 8000000,
		      "over a job: only what came between");
		s2.stage[STAGE_KICK_WAIT].count = 1; /* went back: a reconnection */
		s2.stage[STAGE_KICK_WAIT].b[1] = 0;
		s2.stage[STAGE_KICK_WAIT].b[5] = 1;
		CHECK(vgpu_stats_delta(&s1, &s2, &sdelta) == 0 && sdelta.stage[STAGE_KICK_WAIT].count == 1,
		      "a histogram that went back counts from the reconnection");
		free(sd);
		/* malformed: a bucket out of range, counts that do not add up, a pair that is no pair */
		const char *bad[] = { "[[122,1]]", "[[1,5]]", "[[1]]", "[5]", "[[-1,1]]" };

		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			sd = vb_strdupf("{\"vgpus\":[{\"name\":\"g\",\"sched\":{},\"stages\":{"
					"\"kick_wait\":{\"count\":1,\"hist\":%s},\"check\":{\"count\":0,\"hist\":[]},"
					"\"render\":{\"count\":0,\"hist\":[]},\"fence\":{\"count\":0,\"hist\":[]},"
					"\"readback\":{\"count\":0,\"hist\":[]},\"display_send\":{\"count\":0,\"hist\":[]}}}]}",
					bad[k]);
			CHECK(vgpu_stats_parse(sd, "g", &s1) == 0 && s1.present && !s1.stages_present &&
				      s1.stage[STAGE_KICK_WAIT].count == 0,
			      "malformed stages %s: the vGPU read, its stages not", bad[k]);
			free(sd);
		}
	}

	/* The sampler against our own control socket. */
	CHECK(mkdtemp(path) != NULL, "temp dir");
	snprintf(sock, sizeof(sock), "%s/control.sock", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(listen_fd >= 0 && bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(listen_fd, 8) == 0,
	      "listen");
	pthread_create(&th, NULL, server, NULL);
	ans = gpu_backend_request(sock, "stats\n");
	CHECK(ans && check_contains(ans, "\"gpu_ms\":100"), "one request, one answer: %s", ans ? ans : "none");
	free(ans);
	CHECK(vgpu_sampler_start(&sp, sock, names, 2, 0.1) == 0, "the sampler starts");
	usleep(550 * 1000);
	vgpu_sampler_stop(&sp);
	CHECK(sp.ns >= 4 && sp.ns <= 9, "about one sample every 0.1 s, and a last one: %zu", sp.ns);
	CHECK(sp.ns >= 2 && sp.s[0].present[0] && !sp.s[0].present[1], "a vGPU the mediator does not know is absent");
	CHECK(sp.ns >= 2 && sp.s[sp.ns - 1].gpu_ms[0] > sp.s[0].gpu_ms[0] && sp.s[sp.ns - 1].t_s > sp.s[0].t_s,
	      "GPU time and time grow");
	CHECK(sp.failures == 0, "every ask answered");
	vgpu_sampler_free(&sp);
	CHECK(sp.s == NULL && sp.ns == 0, "freed");
	CHECK(vgpu_sampler_start(&sp, sock, names, 0, 0.1) < 0, "no vGPU to follow is refused");
	CHECK(vgpu_sampler_start(&sp, sock, names, 1, 0.001) < 0, "an interval under 50 ms is refused");
	/* A socket nobody answers: asks fail, counted, nothing stored. */
	CHECK(vgpu_sampler_start(&sp, "/nonexistent/control.sock", names, 1, 0.1) == 0, "sampling nothing");
	usleep(250 * 1000);
	vgpu_sampler_stop(&sp);
	CHECK(sp.ns == 0 && sp.failures >= 2, "failures counted: %d", sp.failures);
	vgpu_sampler_free(&sp);
	free(gpu_backend_request(sock, "quit\n"));
	pthread_join(th, NULL);
	close(listen_fd);
	unlink(sock);
	rmdir(path);
	return check_done("vgpu_stats");
}
