/* kernel_elf.h: the guest kernel without its decompressor. A distribution's
 * bzImage holds the kernel as a compressed ELF (Debian 12's with xz); a TCG
 * guest spends about 6 s of its 12 s boot decompressing it. QEMU boots the
 * ELF itself at its PVH entry (the Xen PHYS32_ENTRY note), the same kernel
 * with no decompressor and no real-mode set-up, so the harness unpacks it
 * once per kernel into its image cache. */
#ifndef VGPUBENCH_KERNEL_ELF_H
#define VGPUBENCH_KERNEL_ELF_H

#include <stddef.h>

/*
 * The ELF kernel inside the bzImage at path kernel, cached in cache_dir as
 * vmlinux-HASH (HASH of the bzImage's bytes) and unpacked with the
 * distribution's own tool (xz, gzip, zstd, bzip2, lz4 or lzop) when it is not
 * there yet. 0 with its path in out and how it was made in how; -1 with why
 * in how when the bzImage must boot as it is (not a bzImage, a compression
 * with no tool, no PVH entry, a cache that cannot be written).
 */
int kernel_elf(const char *kernel, const char *cache_dir, char *out, size_t outlen, char *how, size_t howlen);

/*
 * Does the ELF file at path have a PVH entry point (an ELF note named "Xen"
 * of type 18)? 1 yes, 0 no (why in why), -1 not a readable x86-64 ELF.
 */
int kernel_elf_has_pvh(const char *path, char *why, size_t whylen);

#endif
