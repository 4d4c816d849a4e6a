/* core/log.c: levels, the "hv: " prefix and the serial console's line endings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "tests/fake_arch/fake_arch.h"

static int setup(void **state)
{
	fake_console_reset();
	log_set_level(LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	log_set_level(LOG_INFO);
	return 0;
}

static void test_prefix(void **state)
{
	pr_info("vm%u up\n", 3u);
	assert_string_equal(fake_console_text(), "hv: vm3 up\n");
}

static void test_default_level_is_info(void **state)
{
	pr_err("e\n");
	pr_warn("w\n");
	pr_info("i\n");
	pr_debug("d\n");
	assert_string_equal(fake_console_text(), "hv: e\nhv: w\nhv: i\n");
}

static void test_level_filter(void **state)
{
	log_set_level(LOG_ERR);
	pr_warn("w\n");
	pr_info("i\n");
	assert_string_equal(fake_console_text(), "");
	pr_err("e\n");
	assert_string_equal(fake_console_text(), "hv: e\n");
	log_set_level(LOG_DEBUG);
	pr_debug("d\n");
	assert_string_equal(fake_console_text(), "hv: e\nhv: d\n");
}

static void test_con_printf_has_no_prefix_or_filter(void **state)
{
	log_set_level(LOG_ERR);
	con_printf("[%s] %d\n", "vm0", 5);
	assert_string_equal(fake_console_text(), "[vm0] 5\n");
}

static void test_crlf_per_line(void **state)
{
	con_write("a\nb\n\n", 5);
	pr_err("x\ny\n");
	assert_string_equal(fake_console_text(), "a\nb\n\nhv: x\ny\n");
	assert_int_equal(fake_console_crs(), 5);
}

static void test_parse_level_names(void **state)
{
	enum log_level l;
	assert_int_equal(log_parse_level("err", 3, &l), 0);
	assert_int_equal(l, LOG_ERR);
	assert_int_equal(log_parse_level("warn", 4, &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_parse_level("info", 4, &l), 0);
	assert_int_equal(l, LOG_INFO);
	assert_int_equal(log_parse_level("debug", 5, &l), 0);
	assert_int_equal(l, LOG_DEBUG);
}

static void test_parse_level_digits(void **state)
{
	enum log_level l;
	assert_int_equal(log_parse_level("0", 1, &l), 0);
	assert_int_equal(l, LOG_ERR);
	assert_int_equal(log_parse_level("3", 1, &l), 0);
	assert_int_equal(l, LOG_DEBUG);
}

static void test_parse_level_rejects(void **state)
{
	enum log_level l = LOG_WARN;
	assert_int_equal(log_parse_level("4", 1, &l), -EINVAL);
	assert_int_equal(log_parse_level("errx", 4, &l), -EINVAL);
	assert_int_equal(log_parse_level("er", 2, &l), -EINVAL);
	assert_int_equal(log_parse_level("ERR", 3, &l), -EINVAL);
	assert_int_equal(log_parse_level("", 0, &l), -EINVAL);
	assert_int_equal(log_parse_level("00", 2, &l), -EINVAL);
	/* only `len` bytes count */
	assert_int_equal(log_parse_level("debugging", 5, &l), 0);
	assert_int_equal(l, LOG_DEBUG);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_prefix),
		T(test_default_level_is_info),
		T(test_level_filter),
		T(test_con_printf_has_no_prefix_or_filter),
		T(test_crlf_per_line),
		T(test_parse_level_names),
		T(test_parse_level_digits),
		T(test_parse_level_rejects),
	};
#undef T
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
