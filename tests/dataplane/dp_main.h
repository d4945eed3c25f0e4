/* SPDX-License-Identifier: MIT */
/* main() shared by the suite's Check programs: dp_main(suite). */
#ifndef DP_MAIN_H
#define DP_MAIN_H

#include <check.h>
#include <stdlib.h>

#include "dp.h"

static inline int dp_main(Suite *s)
{
	SRunner *sr;
	int failed;

	dp_init();
	sr = srunner_create(s);
	srunner_run_all(sr, getenv("CK_VERBOSITY") ? CK_ENV : CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
