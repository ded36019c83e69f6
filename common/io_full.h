/* io_full.h: whole-buffer reads, writes and sends on blocking descriptors, retried on EINTR and on short
 * transfers, so that no caller writes that loop again. */
#ifndef VGPU_IO_FULL_H
#define VGPU_IO_FULL_H
#include <stddef.h>

/* Read exactly len bytes. 0, or -1: errno set by read, or 0 when the other end closed first. */
int io_read_full(int fd, void *buf, size_t len);

/* Write all len bytes. 0, or -1 with errno (EIO if write made no progress without an error). */
int io_write_full(int fd, const void *buf, size_t len);

/* send() all len bytes on a socket, with MSG_NOSIGNAL: a closed peer is EPIPE, not a signal. 0, or -1 with errno
 * (EPIPE if send made no progress without an error). */
int io_send_full(int sock, const void *buf, size_t len);

#endif
