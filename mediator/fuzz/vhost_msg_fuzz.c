/* vhost_msg_fuzz.c: libFuzzer target for the vhost-user message reader and
 * validator. The input is written as a byte stream on a unix socketpair
 * (byte 0 chooses how many fds ride with it); every message read from it is
 * validated. Nothing may crash, and no fd may be left open. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontend.h"
#include "vhost_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], nfds;
	struct vhost_msg m;
	char err[256];

	if (size < 1 || size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	nfds = data[0] % 10;
	{
		int fds[10];

		for (int i = 0; i < nfds; i++)
			fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (size > 1)
			fe_send_fds(sv[0], data + 1, size - 1, fds, nfds);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	}
	close(sv[0]);
	for (int i = 0; i < 64; i++) {
		int r = vhost_msg_read(sv[1], &m, err, sizeof(err));

		if (r <= 0)
			break;
		vhost_msg_validate(&m, 2, err, sizeof(err));
		vhost_msg_close_fds(&m);
	}
	close(sv[1]);
	return 0;
}
