/* series.c: reading results back from the database as series. */
#include "analysis/series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configs/configs.h"
#include "stats.h"
#include "util.h"

static void add_value(void *ctx, const struct store_metric_value *v)
{
	struct series_set *out = ctx;
	struct series *cur = out->n ? &out->s[out->n - 1] : NULL;
	double *nv;

	if (!cur || strcmp(cur->workload, v->workload) || strcmp(cur->config, v->config) ||
	    cur->topology != v->topology || cur->dom0 != v->dom0 || strcmp(cur->metric, v->metric)) {
		struct series *ns = realloc(out->s, (out->n + 1) * sizeof(*ns));

		if (!ns)
			abort();
		out->s = ns;
		cur = &out->s[out->n++];
		memset(cur, 0, sizeof(*cur));
		snprintf(cur->workload, sizeof(cur->workload), "%s", v->workload);
		snprintf(cur->config, sizeof(cur->config), "%s", v->config);
		snprintf(cur->metric, sizeof(cur->metric), "%s", v->metric);
		snprintf(cur->unit, sizeof(cur->unit), "%s", v->unit);
		cur->topology = v->topology;
		cur->dom0 = v->dom0;
		cur->higher_is_better = strcmp(v->direction, "higher") == 0;
	}
	nv = realloc(cur->v, (cur->n + 1) * sizeof(double));
	if (!nv)
		abort();
	cur->v = nv;
	cur->v[cur->n++] = v->value;
}

/* The order series are shown in: by workload, configurations as config_rank says, guests, dom0 after, metric. */
static int series_order(const void *pa, const void *pb)
{
	const struct series *a = pa, *b = pb;
	int c = strcmp(a->workload, b->workload);

	if (!c)
		c = config_rank(a->config) - config_rank(b->config);
	if (!c)
		c = strcmp(a->config, b->config);
	if (!c)
		c = a->topology - b->topology;
	if (!c)
		c = a->dom0 - b->dom0;
	return c ? c : strcmp(a->metric, b->metric);
}

int series_load(struct store *st, const char *run, struct series_set *out)
{
	memset(out, 0, sizeof(*out));
	if (store_metric_values(st, run, config_baseline(), add_value, out) < 0)
		return -1;
	if (out->n)
		qsort(out->s, out->n, sizeof(*out->s), series_order);
	return 0;
}

void series_free(struct series_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->s[i].v);
	free(set->s);
	memset(set, 0, sizeof(*set));
}

const struct series *series_find(const struct series_set *set, const char *workload, const char *config,
				 int topology, int dom0, const char *metric)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct series *s = &set->s[i];

		if (s->topology == topology && s->dom0 == dom0 && !strcmp(s->workload, workload) && !strcmp(s->config, config) &&
		    !strcmp(s->metric, metric))
			return s;
	}
	return NULL;
}

int series_previous_run(struct store *st, const char *run, char *out, size_t outlen)
{
	return store_previous_run(st, run, NULL, out, outlen);
}

/* Per-guest medians of a guest series being gathered: the values of the guest at hand, the medians so far. */
struct guest_medians {
	double vals[512], *out;
	size_t nv, n, max;
	int cur;
};

static void guest_median_done(struct guest_medians *m)
{
	if (m->nv > 0 && m->n < m->max)
		m->out[m->n++] = stats_median(m->vals, m->nv);
	m->nv = 0;
}

static void guest_value(void *ctx, int guest, double value)
{
	struct guest_medians *m = ctx;

	if (guest != m->cur)
		guest_median_done(m);
	m->cur = guest;
	if (m->nv < 512)
		m->vals[m->nv++] = value;
}

size_t series_guest_medians(struct store *st, const char *run, const struct series *s, double *out, size_t max)
{
	struct guest_medians *m = calloc(1, sizeof(*m));
	size_t n;

	if (!m)
		abort();
	m->out = out;
	m->max = max;
	m->cur = -1;
	if (store_guest_values(st, run, s->workload, s->config, s->topology, s->metric, guest_value, m) < 0) {
		free(m);
		return 0;
	}
	guest_median_done(m);
	n = m->n;
	free(m);
	return n;
}
