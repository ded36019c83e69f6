/* kernel_elf_test.c: the bzImage unpacker (harness/vm/kernel_elf.h) on
 * bzImages made here: an ELF with a PVH note, gzip-compressed with its size
 * appended as the kernel's build does, is unpacked byte for byte and then
 * found in the cache; every bzImage that cannot boot at a PVH entry (no
 * note, no set-up header, a payload outside the file, an unknown or broken
 * compression, a size that disagrees) is refused with its reason and leaves
 * nothing in the cache; malformed notes are read without a crash. */
#define _GNU_SOURCE
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "util.h"
#include "vm/kernel_elf.h"

static char dir[] = "/tmp/vgpubench-kelf-XXXXXX";

/* A small x86-64 ELF with one PT_NOTE segment holding one note (name, type): into buf, its length returned. */
static size_t make_elf(unsigned char *buf, const char *name, uint32_t type, uint32_t namesz)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	Elf64_Nhdr nh = { .n_namesz = namesz, .n_descsz = 4, .n_type = type };
	size_t at = sizeof(eh) + sizeof(ph);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	ph.p_type = PT_NOTE;
	ph.p_offset = at;
	ph.p_filesz = sizeof(nh) + 4 + 4;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	memcpy(buf + at, &nh, sizeof(nh));
	memcpy(buf + at + sizeof(nh), name, 4);
	memcpy(buf + at + sizeof(nh) + 4, "\x00\x00\x10\x00", 4); /* the entry's address */
	at += sizeof(nh) + 8;
	for (int i = 0; i < 4000; i++) /* something to compress */
		buf[at++] = (unsigned char)(i % 251);
	return at;
}

/* gzip of data, through the real gzip: into a malloc'd buffer, its length in *len. */
static unsigned char *gzip_of(const unsigned char *data, size_t n, size_t *len)
{
	char *raw = vb_strdupf("%s/raw", dir), *gz = vb_strdupf("%s/raw.gz", dir);
	char *argv[] = { "gzip", "-kf9n", raw, NULL };
	int st;
	unsigned char *out = NULL;

	if (vb_write_file(raw, data, n) == 0)
		free(vb_capture(argv, &st));
	out = (unsigned char *)vb_read_file(gz, len);
	unlink(raw);
	unlink(gz);
	free(raw);
	free(gz);
	return out;
}

/* A bzImage: 4 set-up sectors and the boot sector, the "HdrS" header of protocol 2.15, the payload, its size. */
static char *make_bzimage(const char *name, const unsigned char *payload, size_t plen, uint32_t unpacked,
			  uint32_t claim_len)
{
	size_t start = 5 * 512, off = 64, len = start + off + plen + 4;
	unsigned char *k = calloc(1, len);
	char *path = vb_strdupf("%s/%s", dir, name);
	uint32_t v;

	k[0x1f1] = 4;
	memcpy(k + 0x202, "HdrS", 4);
	k[0x206] = 0x0f;
	k[0x207] = 0x02;
	v = (uint32_t)off;
	memcpy(k + 0x248, &v, 4);
	v = claim_len ? claim_len : (uint32_t)(plen + 4);
	memcpy(k + 0x24c, &v, 4);
	memcpy(k + start + off, payload, plen);
	memcpy(k + start + off + plen, &unpacked, 4);
	CHECK(vb_write_file(path, k, len) == 0, "write %s", path);
	free(k);
	return path;
}

/* kernel_elf on path must fail with want in its reason, and leave nothing in its cache (one of its own). */
static void refused(const char *what, const char *path, const char *want)
{
	char out[512], how[800];
	char *cache = vb_strdupf("%s/refused", dir), *ls;
	char *argv[] = { "ls", "-A", cache, NULL };
	int st;

	CHECK(kernel_elf(path, cache, out, sizeof(out), how, sizeof(how)) < 0 && out[0] == '\0', "%s: refused", what);
	CHECK(strstr(how, want) != NULL, "%s: '%s' says '%s'", what, how, want);
	CHECK(!strchr(how, '\n'), "%s: the reason on one line", what);
	ls = vb_capture(argv, &st);
	CHECK(!ls || !*ls, "%s: nothing left in the cache: %s", what, ls ? ls : "");
	free(ls);
	free(cache);
}

int main(void)
{
	unsigned char elf[8192], plain[8192];
	size_t n, zn = 0, pn;
	unsigned char *z;
	char out[512], how[800], why[400];
	char *cache, *path;

	if (!mkdtemp(dir))
		return 1;
	cache = vb_strdupf("%s/cache", dir);
	n = make_elf(elf, "Xen", 18, 4);
	z = gzip_of(elf, n, &zn);
	CHECK(z && zn > 20, "gzip made the payload");
	if (!z) {
		vb_rm_rf(dir);
		free(cache);
		return check_done("kernel_elf");
	}

	/* A kernel with a PVH entry: unpacked byte for byte, then found in the cache. */
	path = make_bzimage("good", z, zn, (uint32_t)n, 0);
	CHECK(kernel_elf(path, cache, out, sizeof(out), how, sizeof(how)) == 0, "unpacked: %s", how);
	CHECK(strstr(how, "(gzip); booted at its PVH entry") && strstr(out, "/cache/vmlinux-"), "it says how: %s", how);
	{
		size_t got = 0;
		char *bytes = vb_read_file(out, &got);

		CHECK(bytes && got == n && memcmp(bytes, elf, n) == 0, "the ELF, byte for byte (%zu of %zu)", got, n);
		free(bytes);
	}
	CHECK(kernel_elf_has_pvh(out, why, sizeof(why)) == 1, "it has a PVH entry");
	CHECK(kernel_elf(path, cache, out, sizeof(out), how, sizeof(how)) == 0 && strstr(how, "cached"),
	      "the second time, from the cache: %s", how);
	{
		char *argv[] = { "sh", "-c", "ls -A \"$0\" | grep -c .", cache, NULL };
		int st;
		char *count = vb_capture(argv, &st);

		CHECK(count && atoi(count) == 1, "the cache holds the one vmlinux, no temporary file (%s)",
		      count ? count : "?");
		free(count);
	}
	free(path);

	/* Kernels that must boot as they are. */
	pn = make_elf(plain, "Lnx", 18, 4);
	free(z);
	z = gzip_of(plain, pn, &zn);
	path = make_bzimage("nopvh", z, zn, (uint32_t)pn, 0);
	refused("no PVH note", path, "has no PVH entry");
	free(path);
	path = make_bzimage("badsize", z, zn, (uint32_t)pn + 1, 0);
	refused("a size that disagrees", path, "the kernel says it unpacks to");
	free(path);
	path = make_bzimage("cut", z, zn / 2, (uint32_t)pn, 0);
	refused("a broken stream", path, "gzip -dc could not unpack it");
	free(path);
	path = make_bzimage("outside", z, zn, (uint32_t)pn, 1u << 30);
	refused("a payload past the file", path, "lies outside");
	free(path);
	path = make_bzimage("unknown", (const unsigned char *)"ABCDEFGHIJKLMNOP", 16, 16, 0);
	refused("an unknown compression", path, "compression is none this harness unpacks (starts 41 42 43 44)");
	free(path);
	path = vb_strdupf("%s/text", dir);
	vb_write_file(path, "not a kernel at all", 19);
	refused("not a bzImage", path, "not a bzImage");
	free(path);
	refused("a missing file", "/nonexistent/vmlinuz", "cannot read /nonexistent/vmlinuz");
	free(z);

	/* Notes that lie about their sizes, and files that are no ELF: read without a crash. */
	n = make_elf(elf, "Xen", 18, 0x7fffffff);
	path = vb_strdupf("%s/huge-note", dir);
	vb_write_file(path, elf, n);
	CHECK(kernel_elf_has_pvh(path, why, sizeof(why)) == 0, "a note larger than its segment is no entry: %s", why);
	free(path);
	n = make_elf(elf, "Xen", 17, 4);
	path = vb_strdupf("%s/other-note", dir);
	vb_write_file(path, elf, n);
	CHECK(kernel_elf_has_pvh(path, why, sizeof(why)) == 0, "another Xen note is no entry");
	CHECK(kernel_elf_has_pvh("/nonexistent", why, sizeof(why)) < 0 && strstr(why, "not a readable x86-64 ELF"),
	      "a missing file: %s", why);
	vb_write_file(path, "\x7f" "ELF", 4);
	CHECK(kernel_elf_has_pvh(path, why, sizeof(why)) < 0, "a truncated ELF header");
	free(path);

	/* A cache that cannot be made. */
	{
		char *file = vb_strdupf("%s/a-file", dir), *under = vb_strdupf("%s/a-file/cache", dir);

		n = make_elf(elf, "Xen", 18, 4);
		z = gzip_of(elf, n, &zn);
		path = make_bzimage("good2", z, zn, (uint32_t)n, 0);
		vb_write_file(file, "x", 1);
		CHECK(kernel_elf(path, under, out, sizeof(out), how, sizeof(how)) < 0 &&
			      strstr(how, "cannot create the image cache"),
		      "an image cache under a file: %s", how);
		free(z);
		free(path);
		free(file);
		free(under);
	}
	free(cache);
	vb_rm_rf(dir);
	return check_done("kernel_elf");
}
