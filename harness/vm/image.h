/* image.h: the guest boot image: the host's Debian kernel (its ELF, unpacked
 * for QEMU's PVH entry where it can be: kernel_elf.h) plus a generated
 * initramfs (busybox, vgpu-agent, virtio modules, init), cached by content hash. */
#ifndef VGPUBENCH_IMAGE_H
#define VGPUBENCH_IMAGE_H

#include <stddef.h>

struct image {
	char kernel[512];      /* what QEMU boots: the unpacked ELF, or else the bzImage itself */
	char kernel_how[800];  /* which of the two, and why */
	char initrd[512];
	char hash[17]; /* hex of the initramfs content hash */
	int cached;    /* 1 when an identical image was already there */
};

/* A mode whose EDID the initramfs carries besides 640x480 (edid.h edid_firmware_name). */
struct image_mode {
	int width, height;
};

/*
 * Build (or reuse) the initramfs for kernel version kver under cache_dir, and,
 * when unpack is set, unpack (or reuse) the kernel's ELF there (a bzImage that
 * cannot be unpacked boots as it is, with the reason in kernel_how).
 * agent: path of the static vgpu-agent; init: path of the init script;
 * modes (nmodes of them, NULL: none): more EDIDs for the guest kernel.
 * 0, or -1 with err set (a mode no EDID can carry is one).
 */
int image_build(const char *kernel, const char *kver, const char *agent, const char *init, const char *cache_dir,
		int unpack, const struct image_mode *modes, int nmodes, struct image *img, char *err, size_t errlen);

/* 64-bit FNV-1a of data: the cache's names (initramfs-HASH.cpio, vmlinux-HASH). */
unsigned long long image_hash64(const void *data, size_t len);

#endif
