/* kernel_elf.c: unpacks a bzImage's ELF kernel for QEMU's PVH entry (see the
 * header). The set-up header's fields are the boot protocol's
 * (Documentation/arch/x86/boot.rst): setup_sects at 0x1f1, "HdrS" at 0x202,
 * the protocol version at 0x206, payload_offset and payload_length at 0x248
 * and 0x24c (protocol 2.08 and later). The kernel's build appends the
 * unpacked size to every compressed payload (size_append in
 * scripts/Makefile.lib): 4 bytes, little-endian, which the tools would take
 * for the start of another stream, so they are cut off and checked against
 * what the tool wrote. */
#define _GNU_SOURCE
#include "vm/kernel_elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "vm/image.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18 /* Xen's public elfnote.h: the 32-bit entry a PVH loader jumps to */
#define MAX_NOTES_BYTES (1u << 20)  /* a kernel's notes are a few hundred bytes */
#define UNPACK_TIMEOUT_S 300.0	    /* xz takes about 1 s for Debian 12's kernel here */

/* The compressions a kernel's payload may have, by their magic, and the tool that undoes each. */
static const struct {
	const char *tool;
	const char *magic;
	size_t len;
} formats[] = {
	{ "xz", "\xfd" "7zXZ\0", 6 }, { "gzip", "\x1f\x8b", 2 },      { "zstd", "\x28\xb5\x2f\xfd", 4 },
	{ "bzip2", "BZh", 3 },	      { "lz4", "\x02\x21\x4c\x18", 4 }, { "lzop", "\x89LZO", 4 },
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Where the compressed payload lies in the bzImage, and its tool. 0, or -1 with why. */
static int find_payload(const unsigned char *k, size_t len, size_t *off, size_t *plen, const char **tool, char *why,
			size_t whylen)
{
	size_t setup, start;
	unsigned version;

	if (len < 0x250 || memcmp(k + 0x202, "HdrS", 4) != 0) {
		snprintf(why, whylen, "not a bzImage (no \"HdrS\" set-up header)");
		return -1;
	}
	version = (unsigned)k[0x206] | (unsigned)k[0x207] << 8;
	if (version < 0x208) {
		snprintf(why, whylen, "boot protocol %u.%02u names no payload (2.08 does)", version >> 8,
			 version & 0xff);
		return -1;
	}
	setup = k[0x1f1] ? k[0x1f1] : 4;
	start = (setup + 1) * 512;
	*off = start + le32(k + 0x248);
	*plen = le32(k + 0x24c);
	if (start > len || *off < start || *off > len || *plen > len - *off || *plen < 8) {
		snprintf(why, whylen, "its payload (%zu bytes at %zu) lies outside its %zu bytes", *plen, *off, len);
		return -1;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (memcmp(k + *off, formats[i].magic, formats[i].len) == 0) {
			*tool = formats[i].tool;
			return 0;
		}
	snprintf(why, whylen, "its payload's compression is none this harness unpacks (starts %02x %02x %02x %02x)",
		 k[*off], k[*off + 1], k[*off + 2], k[*off + 3]);
	return -1;
}

int kernel_elf_has_pvh(const char *path, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0, rc = -1;
	Elf64_Ehdr eh;
	unsigned char *notes = NULL;

	snprintf(why, whylen, "%s is not a readable x86-64 ELF file", path);
	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
		goto out;
	rc = 0;
	for (unsigned i = 0; i < eh.e_phnum && !found; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph)) {
			rc = -1;
			goto out;
		}
		if (ph.p_type != PT_NOTE || ph.p_filesz == 0 || ph.p_filesz > MAX_NOTES_BYTES)
			continue;
		free(notes);
		notes = malloc(ph.p_filesz);
		if (!notes || pread(fd, notes, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
			rc = -1;
			goto out;
		}
		/* Each note: namesz, descsz, type, then the name and the descriptor, each padded to 4 bytes. */
		for (size_t at = 0; at + sizeof(Elf64_Nhdr) <= ph.p_filesz;) {
			Elf64_Nhdr nh;
			size_t name, desc;

			memcpy(&nh, notes + at, sizeof(nh));
			name = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
			desc = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
			if (name > ph.p_filesz || desc > ph.p_filesz || at + sizeof(nh) + name + desc > ph.p_filesz)
				break;
			if (nh.n_namesz == 4 && memcmp(notes + at + sizeof(nh), "Xen", 4) == 0 &&
			    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_descsz >= 4)
				found = 1;
			at += sizeof(nh) + name + desc;
		}
	}
	if (!found)
		snprintf(why, whylen,
			 "%s has no PVH entry (no Xen PHYS32_ENTRY note: a kernel built without CONFIG_PVH)", path);
	rc = found;
out:
	free(notes);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Unpack payload (len bytes, want unpacked) with tool into dir/name: the temporary files are dir's, and gone on
 * return. */
static int unpack(const char *dir, const char *name, const unsigned char *payload, size_t len, uint32_t want,
		  const char *tool, char *why, size_t whylen)
{
	struct stat sb;
	char *in = vb_strdupf(".%s.%d.in", name, (int)getpid()), *out = vb_strdupf(".%s.%d.out", name, (int)getpid());
	char *log = vb_strdupf(".%s.%d.log", name, (int)getpid());
	char *in_path = vb_strdupf("%s/%s", dir, in), *out_path = vb_strdupf("%s/%s", dir, out);
	char *log_path = vb_strdupf("%s/%s", dir, log), *final = vb_strdupf("%s/%s", dir, name);
	char *argv[] = { "sh", "-c", "exec \"$0\" -dc \"$1\" > \"$2\"", (char *)tool, in, out, NULL };
	int rc = -1, st;

	if (vb_write_file(in_path, payload, len) < 0) {
		snprintf(why, whylen, "cannot write %s: %s", in_path, strerror(errno));
		goto out;
	}
	st = vb_run_in(dir, argv, log, UNPACK_TIMEOUT_S);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *msg = vb_read_file_max(log_path, 300, NULL);
		int exited = st != -1 && WIFEXITED(st);

		for (char *c = msg; c && *c; c++) /* the tool's message, on one line */
			if (*c == '\n' || *c == '\r')
				*c = (c[1] ? ' ' : '\0');
		const char *said = msg && *msg ? msg : exited && WEXITSTATUS(st) == 127 ? "not installed" : "?";

		snprintf(why, whylen, "%s -dc could not unpack it (%s %d): %s", tool, exited ? "exit" : "status",
			 exited ? WEXITSTATUS(st) : st, said);
		free(msg);
		goto out;
	}
	if (stat(out_path, &sb) < 0 || (uint64_t)sb.st_size != want) {
		snprintf(why, whylen, "%s -dc wrote %lld bytes, the kernel says it unpacks to %u", tool,
			 (long long)(stat(out_path, &sb) < 0 ? -1 : sb.st_size), want);
		goto out;
	}
	if (kernel_elf_has_pvh(out_path, why, whylen) != 1)
		goto out;
	if (rename(out_path, final) < 0) {
		snprintf(why, whylen, "cannot rename %s to %s: %s", out_path, final, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	unlink(in_path);
	unlink(out_path);
	unlink(log_path);
	free(in);
	free(out);
	free(log);
	free(in_path);
	free(out_path);
	free(log_path);
	free(final);
	return rc;
}

int kernel_elf(const char *kernel, const char *cache_dir, char *out, size_t outlen, char *how, size_t howlen)
{
	size_t len = 0, off, plen;
	unsigned char *k = (unsigned char *)vb_read_file(kernel, &len);
	const char *tool = NULL;
	char name[64], why[400] = "";
	struct stat st;
	int rc = -1;

	if (!k) {
		snprintf(how, howlen, "cannot read %s: %s", kernel, strerror(errno));
		return -1;
	}
	if (find_payload(k, len, &off, &plen, &tool, why, sizeof(why)) < 0) {
		snprintf(how, howlen, "%s: %s", kernel, why);
		goto out;
	}
	snprintf(name, sizeof(name), "vmlinux-%016llx", image_hash64(k, len));
	if ((size_t)snprintf(out, outlen, "%s/%s", cache_dir, name) >= outlen) {
		snprintf(how, howlen, "the image cache's path %s is too long", cache_dir);
		goto out;
	}
	if (stat(out, &st) == 0 && st.st_size > 0) { /* only ever renamed into place once checked */
		snprintf(how, howlen, "%s unpacked from %s (%s), cached; booted at its PVH entry", out, kernel, tool);
		rc = 0;
		goto out;
	}
	if (vb_mkdirs(cache_dir, 0755) < 0) {
		snprintf(how, howlen, "cannot create the image cache %s: %s", cache_dir, strerror(errno));
		goto out;
	}
	if (unpack(cache_dir, name, k + off, plen - 4, le32(k + off + plen - 4), tool, why, sizeof(why)) < 0) {
		snprintf(how, howlen, "%s: %s", kernel, why);
		goto out;
	}
	snprintf(how, howlen, "%s unpacked from %s (%s); booted at its PVH entry", out, kernel, tool);
	rc = 0;
out:
	if (rc < 0 && outlen)
		out[0] = '\0';
	free(k);
	return rc;
}
