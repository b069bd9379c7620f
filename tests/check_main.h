/* The main() every check unit test shares: run the suite, fail on failures. */
#ifndef STOCKADE_TESTS_CHECK_MAIN_H
#define STOCKADE_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int sk_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
