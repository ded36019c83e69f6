/* short_link_test.c: the short /tmp links a run folder too deep for unix
 * socket paths gets (util.h vb_short_link): a socket bound through one
 * lands in the deep folder, the link's name fits any socket name, and the
 * links of a harness that no longer runs are removed while a live one's
 * stay. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

/* A process that has exited and been reaped: its PID names no process (until the kernel reuses it). */
static pid_t dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

int main(void)
{
	char tmpl[] = "/tmp/vgpubench-shortlink-XXXXXX", link[64], *deep, *sock, *stale, *live;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	CHECK(mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno));
	deep = vb_strdupf("%s/%0120d", tmpl, 0);
	CHECK(vb_mkdirs(deep, 0755) == 0, "the deep folder %s", deep);
	CHECK(vb_short_link(deep, link, sizeof(link)) == 0, "a short link to %s: %s", deep, strerror(errno));
	CHECK(strlen(link) + sizeof("/mediator.control.sock") <= sizeof(sa.sun_path), "%s is short enough", link);
	sock = vb_strdupf("%s/x.sock", link);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind through the link: %s",
	      strerror(errno));
	free(sock);
	sock = vb_strdupf("%s/x.sock", deep);
	CHECK(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode), "the socket is in the deep folder");
	if (fd >= 0)
		close(fd);

	/* A killed harness's link goes; this (live) harness's stays. */
	stale = vb_strdupf("/tmp/vgpubench-s-%ld-7", (long)dead_pid());
	CHECK(symlink(deep, stale) == 0, "a stale link %s: %s", stale, strerror(errno));
	live = vb_strdup(link);
	CHECK(vb_short_links_recover() >= 1, "the stale link is removed");
	CHECK(lstat(stale, &st) < 0 && errno == ENOENT, "%s is gone", stale);
	CHECK(lstat(live, &st) == 0 && S_ISLNK(st.st_mode), "the live harness's %s stays", live);
	unlink(stale);
	unlink(live);
	unlink(sock);
	free(sock);
	free(stale);
	free(live);
	free(deep);
	CHECK(vb_rm_rf(tmpl) == 0, "clean up %s", tmpl);
	return check_done("short_link");
}
