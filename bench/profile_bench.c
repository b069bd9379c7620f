/* Time to load (read, parse, resolve includes and variables) a profile,
 * to compute its digest, and one decide().  Prints microseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/policy.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *what, double *us, int n)
{
	qsort(us, (size_t)n, sizeof(*us), cmp);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += us[i];
	printf("%-34s median %8.2f us   p99 %8.2f us   mean %8.2f us   (n=%d)\n", what,
	       us[n / 2], us[n * 99 / 100], sum / n, n);
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "profiles/default";
	int n = argc > 2 ? atoi(argv[2]) : 2000;
	if (n < 1)
		n = 1;
	sk_profile_vars vars = { .home = "/home/bench", .workspace = "/home/bench/ws", .uid = "1000" };
	double *us = calloc((size_t)n, sizeof(double));
	sk_profile *p = NULL;
	sk_error err = { 0 };
	for (int i = 0; i < n; i++) {
		uint64_t t0 = sk_now_ns();
		if (sk_profile_load(name, &vars, &p, &err) < 0) {
			fprintf(stderr, "profile_bench: %s\n", err.msg);
			return 1;
		}
		us[i] = (double)(sk_now_ns() - t0) / 1000.0;
		if (i + 1 < n)
			sk_profile_free(p);
	}
	report("load+parse+resolve", us, n);
	char digest[SK_PROFILE_DIGEST_LEN + 1];
	for (int i = 0; i < n; i++) {
		uint64_t t0 = sk_now_ns();
		sk_profile_digest(p, digest);
		us[i] = (double)(sk_now_ns() - t0) / 1000.0;
	}
	report("canonical form + sha256 digest", us, n);
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.file = (sk_file_ref){ .path = "/home/bench/ws/src/deep/file.c", .has_identity = true, .dev = 2049, .ino = 77 };
	ev.file.access = SK_ACCESS_READ;
	volatile int sink = 0;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = sk_now_ns();
		for (int k = 0; k < 100; k++)
			sink += sk_decide(p, NULL, &ev).action;
		us[i] = (double)(sk_now_ns() - t0) / 1000.0 / 100;
	}
	report("decide (file open, per event)", us, n);
	printf("profile %s: %zu rules, %s\n", name, p->n_rules, digest);
	sk_profile_free(p);
	free(us);
	return 0;
}
