/* Policy coverage, from the profile alone: for each deciding class, does
 * an explicit rule allow, deny and escalate something? */
#include <string.h>

#include "internal.h"

static sk_action rule_outcome(const sk_profile *p, const sk_rule *r)
{
	sk_action a;
	switch (r->cls) {
	case SK_CLASS_FILE:
		a = r->action >= SK_FILE_HIDDEN ? SK_ACTION_DENY : SK_ACTION_ALLOW;
		break;
	case SK_CLASS_ENV:
		a = r->action == SK_ENV_PASS ? SK_ACTION_ALLOW : SK_ACTION_DENY;
		break;
	default:
		a = (sk_action)r->action;
	}
	if (a == SK_ACTION_DENY && (r->escalate || p->escalate_class[r->cls]))
		a = SK_ACTION_ESCALATE;
	return a;
}

void sk_profile_coverage(const sk_profile *p, sk_coverage *out)
{
	memset(out, 0, sizeof(*out));
	out->total = SK_CLASS_N_DECIDING * 3;
	for (size_t i = 0; i < p->n_rules; i++) {
		const sk_rule *r = &p->rules[i];
		if ((unsigned)r->cls >= SK_CLASS_N_DECIDING)
			continue;
		out->has[r->cls][rule_outcome(p, r)] = true;
	}
	for (int c = 0; c < SK_CLASS_N_DECIDING; c++)
		for (int a = 0; a < 3; a++)
			out->covered += out->has[c][a];
}
