/* The labels file of a report: reviewed receipts, one JSON object a line.
 *   {"seq": 12, "label": "false_allow", "severity": "high"}
 * docs/report.md describes it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/audit.h"

static const char *const sev_names[SK_SEV_N] = { "low", "medium", "high", "critical" };

const char *sk_severity_name(int sev)
{
	return sev >= 0 && sev < SK_SEV_N ? sev_names[sev] : "unknown";
}

unsigned sk_severity_weight(int sev)
{
	return sev >= 0 && sev < SK_SEV_N ? 1u << sev : 1;
}

static int cmp_label(const void *a, const void *b)
{
	uint64_t x = ((const sk_label *)a)->seq, y = ((const sk_label *)b)->seq;
	return x < y ? -1 : x > y;
}

static int parse_label(const char *line, sk_label *l, const char *path, uint64_t lineno,
		       sk_error *err)
{
	json_error_t je;
	json_t *o = json_loads(line, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return sk_fail(err, EINVAL, "%s:%" PRIu64 ": not a JSON object", path, lineno);
	}
	json_t *seq = json_object_get(o, "seq");
	const char *label = json_string_value(json_object_get(o, "label"));
	json_t *sevj = json_object_get(o, "severity");
	const char *sev = json_string_value(sevj);
	int r = 0;
	*l = (sk_label){ .severity = SK_SEV_MEDIUM };
	if (!json_is_integer(seq) || json_integer_value(seq) < 0)
		r = sk_fail(err, EINVAL, "%s:%" PRIu64 ": \"seq\" must be a receipt sequence number", path, lineno);
	else if (!label || (strcmp(label, "correct") && strcmp(label, "false_allow") &&
			    strcmp(label, "false_deny")))
		r = sk_fail(err, EINVAL, "%s:%" PRIu64 ": \"label\" must be correct, false_allow or false_deny",
			    path, lineno);
	else if (sevj && !sev)
		r = sk_fail(err, EINVAL, "%s:%" PRIu64 ": \"severity\" must be a string", path, lineno);
	if (r == 0) {
		l->seq = (uint64_t)json_integer_value(seq);
		l->kind = !strcmp(label, "correct")       ? SK_LABEL_CORRECT
			  : !strcmp(label, "false_allow") ? SK_LABEL_FALSE_ALLOW
							  : SK_LABEL_FALSE_DENY;
		if (sev) {
			l->severity = -1;
			for (int i = 0; i < SK_SEV_N; i++)
				if (!strcmp(sev, sev_names[i]))
					l->severity = i;
			if (l->severity < 0)
				r = sk_fail(err, EINVAL, "%s:%" PRIu64 ": severity '%s': want low, medium, high or critical",
					    path, lineno, sev);
		}
	}
	json_decref(o);
	return r;
}

int sk_labels_load(const char *path, sk_labels *out, sk_error *err)
{
	*out = (sk_labels){ 0 };
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return sk_fail_errno(err, errno, "cannot open %s", path);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	for (uint64_t lineno = 1; (len = getline(&line, &cap, f)) >= 0; lineno++) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (out->n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			sk_label *v = realloc(out->v, alloc * sizeof(*v));
			if (!v) {
				sk_labels_free(out);
				return sk_fail(err, ENOMEM, "out of memory");
			}
			out->v = v;
		}
		int r = parse_label(line, &out->v[out->n], path, lineno, err);
		if (r < 0) {
			sk_labels_free(out);
			return r;
		}
		out->n++;
	}
	sk_sort(out->v, out->n, sizeof(*out->v), cmp_label);
	for (size_t i = 1; i < out->n; i++)
		if (out->v[i].seq == out->v[i - 1].seq) {
			uint64_t seq = out->v[i].seq;
			sk_labels_free(out);
			return sk_fail(err, EINVAL, "%s: receipt %" PRIu64 " is labelled twice", path, seq);
		}
	return 0;
}

void sk_labels_free(sk_labels *l)
{
	free(l->v);
	*l = (sk_labels){ 0 };
}
