/* io_full.c: read, write and send loops for whole buffers (io_full.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io_full.h"

enum io_op { IO_READ, IO_WRITE, IO_SEND };

/* One loop for the three: retried on EINTR and short transfers; a transfer of 0 bytes fails with zero_errno. */
static int io_full(enum io_op op, int fd, uint8_t *p, size_t len, int zero_errno)
{
	while (len > 0) {
		ssize_t n;

		if (op == IO_READ)
			n = read(fd, p, len);
		else if (op == IO_WRITE)
			n = write(fd, p, len);
		else
			n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = zero_errno;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int io_read_full(int fd, void *buf, size_t len)
{
	return io_full(IO_READ, fd, buf, len, 0);
}

int io_write_full(int fd, const void *buf, size_t len)
{
	return io_full(IO_WRITE, fd, (uint8_t *)(uintptr_t)buf, len, EIO);
}

int io_send_full(int sock, const void *buf, size_t len)
{
	return io_full(IO_SEND, sock, (uint8_t *)(uintptr_t)buf, len, EPIPE);
}
