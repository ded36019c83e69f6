/* clock.c: the harness's clock, and the time scale that stretches its timeouts on slow hosts. */
#define _GNU_SOURCE

#include <stdlib.h>
#include <string.h>

#include "mono_clock.h"
#include "util.h"

double vb_now(void)
{
	return (double)mono_ns() / 1e9;
}

double vb_time_scale(void)
{
	static double scale;
	const char *v;
	char *end;

	if (scale > 0)
		return scale;
	scale = 1;
	if ((v = getenv(VB_TIME_SCALE_ENV)) && *v) {
		double x = strtod(v, &end);

		if (end != v && !*end && x >= 1 && x <= 100)
			scale = x;
		else
			vb_warn("%s='%s' is not a number from 1 to 100: the harness's time limits stay as they are",
				VB_TIME_SCALE_ENV, v);
	}
	return scale;
}

double vb_scaled(double s)
{
	return s * vb_time_scale();
}
