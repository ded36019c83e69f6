/* arrays.c: a growing array of fixed-size elements (util.h vb_push), for the readers that collect rows of unknown
 * number. */
#include "util.h"

#include <stdlib.h>
#include <string.h>

void *vb_push(void **v, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		void *t = realloc(*v, c * elem);

		if (!t)
			abort();
		*v = t;
		*cap = c;
	}
	memset((char *)*v + *n * elem, 0, elem);
	return (char *)*v + (*n)++ * elem;
}
