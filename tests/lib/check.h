/* check.h: the tests' minimal assertion helpers. Each test program prints
 * "N passed, N failed" last and exits non-zero on any failure. */
#ifndef VGPUBENCH_CHECK_H
#define VGPUBENCH_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (cond) {                                                     \
			check_passed++;                                         \
		} else {                                                        \
			check_failed++;                                         \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
		}                                                               \
	} while (0)

static inline int check_contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* The text to print for a string that may be NULL. */
static inline const char *check_str(const char *s)
{
	return s ? s : "(null)";
}

#define CHECK_STR_CONTAINS(hay, needle) \
	CHECK(check_contains((hay), (needle)), "'%s' does not contain '%s'", check_str(hay), (needle))

static inline int check_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
