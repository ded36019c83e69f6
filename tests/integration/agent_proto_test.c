/* agent_proto_test.c: vgpu-agent's protocol, black-box over --stdio:
 * every operation, malformed and oversized input, timeouts that kill a whole
 * process group, cancel, and shutdown. The agent binary is argv[1]. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "check.h"
#include "util.h"

static int to_agent = -1, from_agent = -1;
static pid_t agent_pid;
static char inbuf[1 << 20];
static size_t inlen;

static void start_agent(const char *path)
{
	int in[2], out[2];

	if (pipe(in) < 0 || pipe(out) < 0)
		exit(1);
	agent_pid = fork();
	if (agent_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(path, path, "--stdio", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to_agent = in[1];
	from_agent = out[0];
}

static void send_raw(const char *s, size_t len)
{
	while (len > 0) {
		ssize_t w = write(to_agent, s, len);

		if (w <= 0)
			return;
		s += w;
		len -= (size_t)w;
	}
}

static void send_line(const char *s)
{
	send_raw(s, strlen(s));
	send_raw("\n", 1);
}

/* Next message, or NULL after timeout_s. */
static struct json_object *next_msg(double timeout_s)
{
	double deadline = vb_now() + timeout_s;

	for (;;) {
		char *nl = memchr(inbuf, '\n', inlen);

		if (nl) {
			*nl = '\0';
			struct json_object *m = json_tokener_parse(inbuf);
			size_t used = (size_t)(nl - inbuf) + 1;

			memmove(inbuf, inbuf + used, inlen - used);
			inlen -= used;
			return m;
		}
		double left = deadline - vb_now();

		if (left <= 0)
			return NULL;
		struct pollfd p = { .fd = from_agent, .events = POLLIN };

		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		ssize_t r = read(from_agent, inbuf + inlen, sizeof(inbuf) - inlen);

		if (r <= 0)
			return NULL;
		inlen += (size_t)r;
	}
}

static const char *str(struct json_object *m, const char *k)
{
	struct json_object *v;

	return m && json_object_object_get_ex(m, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static long long num(struct json_object *m, const char *k)
{
	struct json_object *v;

	return m && json_object_object_get_ex(m, k, &v) && !json_object_is_type(v, json_type_null)
		       ? json_object_get_int64(v)
		       : -1000;
}

static int is_type(struct json_object *m, const char *t)
{
	const char *s = str(m, "type");

	return s && strcmp(s, t) == 0;
}

/* Expect one error reply whose message contains `what`. */
static void expect_error(const char *req, const char *what)
{
	struct json_object *m;

	send_line(req);
	m = next_msg(5);
	CHECK(is_type(m, "error"), "request %.60s: expected an error, got %s", req,
	      m ? json_object_to_json_string(m) : "nothing");
	CHECK(str(m, "error") && strstr(str(m, "error"), what), "request %.60s: error '%s' lacks '%s'", req,
	      str(m, "error") ? str(m, "error") : "", what);
	json_object_put(m);
}

struct run_out {
	char out[65536], err[4096];
	char status[16];
	long long code, signal;
	double wall;
};

/* Read messages for job id until its exit; other ids are ignored. */
static int collect(long long id, struct run_out *o, double timeout_s)
{
	memset(o, 0, sizeof(*o));
	for (;;) {
		struct json_object *m = next_msg(timeout_s), *wall;

		if (!m)
			return -1;
		if (num(m, "id") != id) {
			json_object_put(m);
			continue;
		}
		if (is_type(m, "output")) {
			const char *d = str(m, "data");
			int is_err = str(m, "stream") && strcmp(str(m, "stream"), "stderr") == 0;
			char *dst = is_err ? o->err : o->out;
			size_t cap = is_err ? sizeof(o->err) : sizeof(o->out);

			strncat(dst, d ? d : "", cap - strlen(dst) - 1);
		} else if (is_type(m, "exit")) {
			snprintf(o->status, sizeof(o->status), "%s", str(m, "status"));
			o->code = num(m, "code");
			o->signal = num(m, "signal");
			if (json_object_object_get_ex(m, "wall_s", &wall))
				o->wall = json_object_get_double(wall);
			json_object_put(m);
			return 0;
		} else if (is_type(m, "error")) {
			snprintf(o->status, sizeof(o->status), "error");
			snprintf(o->err, sizeof(o->err), "%s", str(m, "error"));
			json_object_put(m);
			return 0;
		}
		json_object_put(m);
	}
}

/* Alive and not a zombie (an orphan may wait for a reaper that never comes here). */
static int pid_alive(pid_t p)
{
	char *path = vb_strdupf("/proc/%d/stat", (int)p);
	char *stat = vb_read_file(path, NULL);
	const char *close = stat ? strrchr(stat, ')') : NULL;
	int alive = close && close[1] == ' ' && close[2] != 'Z' && close[2] != 'X';

	free(stat);
	free(path);
	return alive;
}

/* hello, and string ids echoed as they came. */
static void test_hello(void)
{
	struct json_object *m;

	send_line("{\"id\":1,\"op\":\"hello\"}");
	m = next_msg(5);
	CHECK(is_type(m, "hello"), "hello reply");
	CHECK(num(m, "id") == 1, "hello id echoed");
	CHECK(str(m, "version") != NULL, "hello has version");
	CHECK(str(m, "kernel") != NULL, "hello has kernel");
	CHECK(num(m, "cpus") >= 1, "hello has cpus");
	CHECK(num(m, "mem_kb") > 0, "hello has mem_kb");
	struct json_object *drm;

	CHECK(m && json_object_object_get_ex(m, "drm", &drm) && json_object_is_type(drm, json_type_array),
	      "hello lists DRM devices");
	json_object_put(m);

	/* string ids are echoed as they came */
	send_line("{\"id\":\"abc\",\"op\":\"hello\"}");
	m = next_msg(5);
	CHECK(str(m, "id") && strcmp(str(m, "id"), "abc") == 0, "string id echoed");
	json_object_put(m);
}

/* run: stdout, stderr, exit code, env, cwd; a signal death; a job outliving its timeout. */
static void test_run(void)
{
	struct run_out o;

	send_line("{\"id\":2,\"op\":\"run\",\"argv\":[\"sh\",\"-c\",\"echo out:$FOO; pwd; echo err >&2; exit 7\"],"
		  "\"env\":{\"FOO\":\"bar baz\"},\"cwd\":\"/tmp\",\"timeout\":20}");
	CHECK(collect(2, &o, 20) == 0, "run 2 finished");
	CHECK(strcmp(o.status, "exited") == 0 && o.code == 7, "status %s code %lld", o.status, o.code);
	CHECK(strcmp(o.out, "out:bar baz\n/tmp\n") == 0, "stdout '%s'", o.out);
	CHECK(strcmp(o.err, "err\n") == 0, "stderr '%s'", o.err);

	/* a signal death is reported as such */
	send_line("{\"id\":3,\"op\":\"run\",\"argv\":[\"sh\",\"-c\",\"kill -SEGV $$\"]}");
	CHECK(collect(3, &o, 20) == 0, "run 3 finished");
	CHECK(strcmp(o.status, "signaled") == 0 && o.signal == SIGSEGV, "status %s signal %lld", o.status, o.signal);

	/* a job outliving its timeout is killed with its whole process group */
	char pidfile[] = "/tmp/vgpu-agent-test-XXXXXX";
	int pfd = mkstemp(pidfile);

	close(pfd);
	char *req = vb_strdupf("{\"id\":4,\"op\":\"run\",\"argv\":[\"sh\",\"-c\",\"sleep 100 & echo $! > %s; wait\"],"
			       "\"timeout\":0.5}",
			       pidfile);
	send_line(req);
	free(req);
	CHECK(collect(4, &o, 20) == 0, "run 4 finished");
	CHECK(strcmp(o.status, "timeout") == 0, "timed-out job status '%s'", o.status);
	CHECK(o.wall < 5, "timeout took %g s", o.wall);
	char *pidtext = vb_read_file(pidfile, NULL);
	pid_t grandchild = pidtext ? atoi(pidtext) : 0;

	free(pidtext);
	unlink(pidfile);
	usleep(200000);
	CHECK(grandchild > 0 && !pid_alive(grandchild), "the background grandchild %d survived the timeout",
	      (int)grandchild);
}

/* cancel */
static void test_cancel(void)
{
	struct json_object *m;

	send_line("{\"id\":5,\"op\":\"run\",\"argv\":[\"sleep\",\"100\"]}");
	m = next_msg(5);
	CHECK(is_type(m, "started") && num(m, "id") == 5, "started message");
	json_object_put(m);
	send_line("{\"id\":6,\"op\":\"cancel\",\"job\":5}");
	int saw_ok = 0, saw_exit = 0;

	for (int i = 0; i < 4 && !(saw_ok && saw_exit); i++) {
		m = next_msg(5);
		if (num(m, "id") == 6 && is_type(m, "ok"))
			saw_ok = 1;
		if (num(m, "id") == 5 && is_type(m, "exit"))
			saw_exit = str(m, "status") && strcmp(str(m, "status"), "cancelled") == 0;
		json_object_put(m);
	}
	CHECK(saw_ok && saw_exit, "cancel acknowledged (%d) and job reported cancelled (%d)", saw_ok, saw_exit);
	expect_error("{\"id\":7,\"op\":\"cancel\",\"job\":5}", "no running job");
	expect_error("{\"id\":8,\"op\":\"cancel\"}", "missing \"job\"");
}

/* malformed requests: each gets an error, none stops the agent */
static void test_malformed(void)
{
	struct json_object *m;

	expect_error("not json", "malformed JSON");
	expect_error("{\"id\":1,\"op\":\"hello\"", "malformed JSON");
	expect_error("{\"id\":1,\"op\":\"hello\"} trailing", "malformed JSON");
	expect_error("[1,2,3]", "must be a JSON object");
	expect_error("42", "must be a JSON object");
	expect_error("{\"id\":{},\"op\":\"hello\"}", "id must be");
	expect_error("{\"id\":9}", "missing \"op\"");
	expect_error("{\"id\":9,\"op\":7}", "missing \"op\"");
	expect_error("{\"id\":9,\"op\":\"reboot-the-host\"}", "unknown op");
	expect_error("{\"id\":9,\"op\":\"run\"}", "argv must be");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[]}", "argv must be");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":\"ls\"}", "argv must be");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\",3]}", "entries must be strings");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"l\\u0000s\"]}", "must not contain NUL");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\"],\"env\":[\"A=1\"]}", "env must be");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\"],\"env\":{\"A=B\":\"1\"}}", "env must map");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\"],\"env\":{\"A\":1}}", "env must map");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\"],\"cwd\":5}", "cwd must be");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\"],\"timeout\":\"1\"}", "timeout must be");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\"],\"timeout\":0}", "timeout must be > 0");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\"],\"timeout\":1e300}", "timeout must be > 0");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"/nonexistent/prog\"]}", "cannot start");
	expect_error("{\"id\":9,\"op\":\"run\",\"argv\":[\"ls\"],\"cwd\":\"/nonexistent\"}", "cannot start");

	/* deep nesting is refused by the parser's depth limit */
	char deep[4096] = "";

	for (int i = 0; i < 1000; i++)
		strcat(deep, "[");
	expect_error(deep, "malformed JSON");

	/* too many arguments */
	char *many = malloc(16 * 300 + 64);

	strcpy(many, "{\"id\":9,\"op\":\"run\",\"argv\":[\"true\"");
	for (int i = 0; i < 300; i++)
		strcat(many, ",\"x\"");
	strcat(many, "]}");
	expect_error(many, "too many entries");
	free(many);

	/* an oversized line gets one error, and the agent keeps serving */
	size_t big = 200000;
	char *huge = malloc(big + 1);

	memset(huge, 'a', big);
	huge[big] = '\0';
	send_raw(huge, big);
	send_raw("\n", 1);
	free(huge);
	m = next_msg(5);
	CHECK(is_type(m, "error") && strstr(str(m, "error") ? str(m, "error") : "", "longer than"),
	      "oversized line gets an error");
	json_object_put(m);
	send_line("{\"id\":10,\"op\":\"hello\"}");
	m = next_msg(5);
	CHECK(is_type(m, "hello") && num(m, "id") == 10, "agent still serves after an oversized line");
	json_object_put(m);
}

/* binary output is carried; more jobs than the agent runs at once; shutdown kills running jobs and ends the agent. */
static void test_jobs_and_shutdown(void)
{
	struct json_object *m;
	struct run_out o;

	/* binary output is carried */
	send_line("{\"id\":11,\"op\":\"run\",\"argv\":[\"printf\",\"a\\\\001b\\\\tc\"]}");
	CHECK(collect(11, &o, 20) == 0 && strcmp(o.out, "a\001b\tc") == 0, "control bytes in output: '%s'", o.out);

	/* more jobs than the agent runs at once */
	for (int i = 0; i < 16; i++) {
		char line[128];

		snprintf(line, sizeof(line), "{\"id\":%d,\"op\":\"run\",\"argv\":[\"sleep\",\"30\"]}", 100 + i);
		send_line(line);
		m = next_msg(5);
		CHECK(is_type(m, "started"), "job %d started", 100 + i);
		json_object_put(m);
	}
	expect_error("{\"id\":200,\"op\":\"run\",\"argv\":[\"sleep\",\"30\"]}", "too many jobs");

	/* shutdown kills running jobs and ends the agent */
	send_line("{\"id\":12,\"op\":\"shutdown\"}");
	int status = -1;
	double deadline = vb_now() + 10;

	while (vb_now() < deadline && waitpid(agent_pid, &status, WNOHANG) == 0)
		usleep(20000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exited 0 after shutdown (status %d)", status);
	int saw_shutdown_ok = 0;

	while ((m = next_msg(1))) {
		if (num(m, "id") == 12 && is_type(m, "ok"))
			saw_shutdown_ok = 1;
		json_object_put(m);
	}
	CHECK(saw_shutdown_ok, "shutdown acknowledged");
}

/* TCP transport: serves one connection at a time, and the next after it closes. */
static void test_tcp(const char *agent)
{
	struct json_object *m;
	int port = 20000 + (int)(getpid() % 20000);
	char portarg[16];
	pid_t tp;

	snprintf(portarg, sizeof(portarg), "%d", port);
	tp = fork();
	if (tp == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 2);
		execl(agent, agent, "--tcp", portarg, (char *)NULL);
		_exit(127);
	}
	for (int round = 0; round < 2; round++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = -1;

		for (int tries = 0; tries < 100 && fd < 0; tries++) {
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				close(fd);
				fd = -1;
				usleep(50000);
			}
		}
		CHECK(fd >= 0, "TCP connection %d to port %d", round + 1, port);
		if (fd < 0)
			break;
		to_agent = fd;
		from_agent = fd;
		inlen = 0;
		send_line("{\"id\":77,\"op\":\"hello\"}");
		m = next_msg(5);
		CHECK(is_type(m, "hello") && num(m, "id") == 77, "hello over TCP (connection %d)", round + 1);
		json_object_put(m);
		close(fd);
	}
	kill(tp, SIGTERM);
	waitpid(tp, NULL, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s AGENT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	start_agent(argv[1]);

	test_hello();
	test_run();
	test_cancel();
	test_malformed();
	test_jobs_and_shutdown();
	test_tcp(argv[1]);

	/* usage errors */
	int st;
	char *args[] = { argv[1], "--bogus", NULL };
	free(vb_capture(args, &st));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "unknown argument exits 2");
	return check_done("agent_proto");
}
