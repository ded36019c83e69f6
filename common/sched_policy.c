/* sched_policy.c: the scheduler's policies by name (sched_policy.h). */
#include "sched_policy.h"

#include <string.h>

#define SCHED_POLICY_NAME(e, name) [e] = name,
static const char *const policy_names[SCHED_NPOLICIES] = { SCHED_POLICY_LIST(SCHED_POLICY_NAME) };
#undef SCHED_POLICY_NAME

#define SCHED_POLICY_COMMA(e, name) ", " name
static const char policy_list[] = SCHED_POLICY_LIST(SCHED_POLICY_COMMA);
#undef SCHED_POLICY_COMMA

const char *sched_policy_names(void)
{
	return policy_list + 2;
}

const char *sched_policy_name(enum sched_policy p)
{
	return (unsigned)p < SCHED_NPOLICIES ? policy_names[p] : "unknown";
}

int sched_policy_parse(const char *name, enum sched_policy *p)
{
	for (unsigned i = 0; name && i < SCHED_NPOLICIES; i++)
		if (!strcmp(name, policy_names[i])) {
			*p = (enum sched_policy)i;
			return 0;
		}
	return -1;
}
