/* proc_field.c: a keyed line's first field from a /proc file (proc_field.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "proc_field.h"

int proc_field(int pid, const char *file, const char *key, char *out, size_t cap)
{
	char path[64], line[512];
	size_t klen = strlen(key);
	int rc = -1;
	FILE *f;

	if (cap)
		out[0] = 0;
	if (pid < 0 || !cap)
		return -1;
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/%s", file);
	else
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + klen;
		size_t n;

		if (strncmp(line, key, klen))
			continue;
		p += strspn(p, " \t");
		n = strcspn(p, " \t\n");
		if (!n)
			break;
		snprintf(out, cap, "%.*s", (int)n, p);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}
