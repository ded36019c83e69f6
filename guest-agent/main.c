/* main.c: vgpu-agent entry point: picks the transport (virtio-serial port,
 * stdin/stdout or TCP), then runs the poll loop over the host connection and
 * the jobs' output pipes until asked to shut down. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jobs.h"
#include "protocol.h"

enum transport { T_NONE, T_STDIO, T_PORT, T_PORT_NAME, T_TCP };

static void usage(FILE *f)
{
	fprintf(f, "usage: vgpu-agent (--stdio | --port DEV | --port-name NAME | --tcp PORT) [--poweroff]\n"
		   "  --stdio           requests on stdin, responses on stdout\n"
		   "  --port DEV        a virtio-serial port device, e.g. /dev/vport0p1\n"
		   "  --port-name NAME  the virtio-serial port with this name (waits for it)\n"
		   "  --tcp PORT        listen on 127.0.0.1:PORT (0.0.0.0 with --any)\n"
		   "  --poweroff        power the machine off on shutdown (agent as PID 1)\n");
}

/* Find /dev/vportNpM whose sysfs name is `name`; waits up to 30 s for it. */
static int find_port(const char *name, char *dev, size_t devlen)
{
	for (int tries = 0; tries < 300; tries++) {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char path[PATH_MAX], buf[256];
			FILE *f;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (fgets(buf, sizeof(buf), f)) {
				buf[strcspn(buf, "\n")] = '\0';
				if (strcmp(buf, name) == 0) {
					snprintf(dev, devlen, "/dev/%s", de->d_name);
					fclose(f);
					closedir(d);
					return 0;
				}
			}
			fclose(f);
		}
		if (d)
			closedir(d);
		usleep(100000);
	}
	return -1;
}

static int tcp_listen(int port, int any)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What the command line asks for. */
struct agent_opts {
	enum transport t;
	const char *arg; /* the port, its name, or the TCP port */
	int poweroff, any;
};

/* The command line into o: 0; 1 when --help printed the usage; 2 for a bad one (said). */
static int parse_args(int argc, char **argv, struct agent_opts *o)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stdio") == 0) {
			o->t = T_STDIO;
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			o->t = T_PORT;
			o->arg = argv[++i];
		} else if (strcmp(argv[i], "--port-name") == 0 && i + 1 < argc) {
			o->t = T_PORT_NAME;
			o->arg = argv[++i];
		} else if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc) {
			o->t = T_TCP;
			o->arg = argv[++i];
		} else if (strcmp(argv[i], "--any") == 0) {
			o->any = 1;
		} else if (strcmp(argv[i], "--poweroff") == 0) {
			o->poweroff = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 1;
		} else {
			fprintf(stderr, "vgpu-agent: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (o->t == T_NONE) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* The byte stream to the host: standard input and output, a virtio-serial port (by path or by name), or a TCP
 * socket listening (*listen_fd) for the host to connect. 0, or the exit code with the reason said. */
static int open_transport(const struct agent_opts *o, struct agent *a, int *listen_fd)
{
	const char *arg = o->arg;
	char dev[PATH_MAX];

	switch (o->t) {
	case T_STDIO:
		wire_init(&a->wire, STDIN_FILENO, STDOUT_FILENO);
		a->connected = 1;
		break;
	case T_PORT_NAME:
		if (find_port(arg, dev, sizeof(dev)) < 0) {
			fprintf(stderr, "vgpu-agent: no virtio-serial port named '%s'\n", arg);
			return 1;
		}
		arg = dev;
		/* fallthrough */
	case T_PORT: {
		int fd = open(arg, O_RDWR | O_CLOEXEC | O_NONBLOCK);

		if (fd < 0) {
			fprintf(stderr, "vgpu-agent: cannot open %s: %s\n", arg, strerror(errno));
			return 1;
		}
		wire_init(&a->wire, fd, fd);
		a->connected = 1;
		break;
	}
	case T_TCP: {
		char *end;
		long port = strtol(arg, &end, 10);

		if (*end || port < 0 || port > 65535) {
			fprintf(stderr, "vgpu-agent: bad TCP port '%s'\n", arg);
			return 2;
		}
		*listen_fd = tcp_listen((int)port, o->any);
		if (*listen_fd < 0) {
			fprintf(stderr, "vgpu-agent: cannot listen on port %ld: %s\n", port, strerror(errno));
			return 1;
		}
		break;
	}
	case T_NONE:
		break;
	}
	return 0;
}

/* The host's side of the stream ended: on stdio nothing more will come (the jobs are killed and the agent stops),
 * a TCP client may connect again, a virtio-serial port waits for the host to open it again. */
static void host_gone(struct agent *a, enum transport t)
{
	if (t == T_STDIO) {
		jobs_kill_all();
		a->connected = 0;
		a->shutdown_requested = 1;
	} else if (t == T_TCP) {
		close(a->wire.in_fd);
		a->connected = 0;
	} else {
		a->wire.eof = 0;
		a->wire.len = 0;
		usleep(100000);
	}
}

/* Serve requests and the jobs they start until a shutdown was asked and every job has ended. */
static void serve(struct agent *a, enum transport t, int listen_fd, int sfd)
{
	while (!a->shutdown_requested || jobs_active() > 0) {
		struct pollfd pfds[2 + 2 * JOBS_MAX + 1];
		int n = 0, conn_idx = -1, listen_idx = -1, njob, timeout;

		pfds[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (a->connected && !a->shutdown_requested) {
			conn_idx = n;
			pfds[n++] = (struct pollfd){ .fd = a->wire.in_fd, .events = POLLIN };
		} else if (listen_fd >= 0 && !a->shutdown_requested) {
			listen_idx = n;
			pfds[n++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		}
		njob = jobs_pollfds(pfds + n, 2 * JOBS_MAX);
		timeout = jobs_next_timeout_ms();
		if (poll(pfds, (nfds_t)(n + njob), timeout) < 0 && errno != EINTR) {
			perror("vgpu-agent: poll");
			return;
		}
		if (pfds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
		}
		if (listen_idx >= 0 && (pfds[listen_idx].revents & POLLIN)) {
			int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0) {
				wire_init(&a->wire, c, c);
				a->connected = 1;
			}
		}
		if (conn_idx >= 0 && pfds[conn_idx].revents) {
			if (pfds[conn_idx].revents & POLLIN)
				wire_read(&a->wire, protocol_handle_line, a);
			else
				a->wire.eof = 1; /* POLLHUP/POLLERR without data */
			if (a->wire.eof)
				host_gone(a, t);
		}
		jobs_service(pfds + n, njob);
	}
}

int main(int argc, char **argv)
{
	struct agent_opts o = { .t = T_NONE };
	struct agent a = { .sysfs_root = "/sys" };
	int listen_fd = -1, sfd, rc;
	sigset_t mask;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	signal(SIGPIPE, SIG_IGN);
	json_c_set_serialization_double_format("%.6g", JSON_C_OPTION_GLOBAL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		perror("vgpu-agent: signalfd");
		return 1;
	}
	jobs_init(protocol_emit, &a);
	rc = open_transport(&o, &a, &listen_fd);
	if (rc)
		return rc;
	fprintf(stderr, "vgpu-agent %s ready\n", AGENT_VERSION);
	serve(&a, o.t, listen_fd, sfd);
	if (o.poweroff) {
		sync();
		reboot(RB_POWER_OFF);
	}
	return 0;
}
