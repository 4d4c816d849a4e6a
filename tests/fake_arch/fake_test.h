/*
 * Failing a cmocka test with a formatted message. cmocka's fail_msg() prints
 * straight to stderr, which in TAP mode lands outside the "# " diagnostics;
 * _assert_true() routes the text through cmocka's own error buffer instead.
 * Include after <cmocka.h>.
 */
#ifndef TESTS_FAKE_TEST_H
#define TESTS_FAKE_TEST_H

#include <stdio.h>

#define fail_fmt(...) do { \
		char fail_fmt_buf_[4096]; \
		snprintf(fail_fmt_buf_, sizeof(fail_fmt_buf_), __VA_ARGS__); \
		_assert_true(0, fail_fmt_buf_, __FILE__, __LINE__); \
	} while (0)

#endif
