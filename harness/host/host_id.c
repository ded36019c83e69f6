/* host_id.c: this host's name as its runs carry it, and its machine id (host_id.h). */
#define _GNU_SOURCE
#include "host/host_id.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void host_label_of(const char *text, char *out, size_t len)
{
	size_t n = 0, max = len - 1 < HOST_LABEL_MAX ? len - 1 : HOST_LABEL_MAX;

	for (const char *p = text ? text : ""; *p && *p != '.' && n < max; p++)
		out[n++] = isalnum((unsigned char)*p) || *p == '_' || *p == '-' ? *p : '-';
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	if (!out[0] || out[0] == '-')
		snprintf(out, len, "host");
}

void host_label(char *out, size_t len)
{
	const char *env = getenv(HOST_NAME_ENV);
	char name[256] = "";

	if (env && *env) {
		host_label_of(env, out, len);
		return;
	}
	if (gethostname(name, sizeof(name) - 1) < 0)
		name[0] = '\0';
	host_label_of(name, out, len);
}

void host_machine_id(char *out, size_t len)
{
	static const char *const paths[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && !out[0]; i++) {
		FILE *f = fopen(paths[i], "re");

		if (!f)
			continue;
		if (fgets(out, (int)len, f))
			out[strcspn(out, " \t\r\n")] = '\0';
		else
			out[0] = '\0';
		fclose(f);
	}
}
