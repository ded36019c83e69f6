/* vhost_msg_fuzz.c: libFuzzer target for the vhost-user message receiver and
 * validator. The input is written as a byte stream on a unix socketpair in
 * pieces (byte 0 chooses how many fds ride with the first piece and how big
 * the pieces are), and the receiver takes what has arrived after each piece,
 * the way the mediator's event loop does; every whole message is validated.
 * Nothing may crash, and no fd may be left open. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontend.h"
#include "vhost/vhost_msg.h"

/* Take every message that has arrived; 1 when the stream is over (closed or broken). */
static int drain(int sock, struct vhost_rx *rx)
{
	struct vhost_msg m;
	char err[256];

	for (;;) {
		int r = vhost_msg_recv(sock, rx, &m, err, sizeof(err));

		if (r == 2)
			return 0;
		if (r != 1)
			return 1;
		vhost_msg_validate(&m, 2, err, sizeof(err));
		vhost_msg_close_fds(&m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], fds[10], nfds, over = 0;
	size_t chunk, off = 1;
	struct vhost_rx rx;

	if (size < 1 || size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	nfds = data[0] % 10;
	chunk = 1 + (size_t)(data[0] / 10) * 7; /* 1 .. 176 bytes a piece */
	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	vhost_rx_init(&rx);
	while (!over) {
		if (off < size) {
			size_t n = size - off < chunk ? size - off : chunk;

			fe_send_fds(sv[0], data + off, n, fds, off == 1 ? nfds : 0);
			off += n;
		}
		if (off >= size && sv[0] >= 0) {
			close(sv[0]);
			sv[0] = -1;
		}
		over = drain(sv[1], &rx);
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	vhost_rx_reset(&rx);
	close(sv[1]);
	return 0;
}
