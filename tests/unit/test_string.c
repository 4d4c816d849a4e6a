/* core/string.c: parse_u64 (command-line numbers) and strlcpy; core/types.h: MIN, MAX, popcount64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/string.h"

static int parse(const char *s, bool suffix, uint64_t *out)
{
	return parse_u64(s, strlen(s), suffix, out);
}

static void parses_to(const char *s, bool suffix, uint64_t want)
{
	uint64_t v = 0xdeadbeef;
	assert_int_equal(parse(s, suffix, &v), 0);
	assert_int_equal(v, want);
}

static void rejects(const char *s, bool suffix)
{
	uint64_t v;
	assert_int_equal(parse(s, suffix, &v), -EINVAL);
}

static void test_decimal(void **state)
{
	parses_to("0", false, 0);
	parses_to("7", false, 7);
	parses_to("12345", false, 12345);
	parses_to("00012", false, 12);
	parses_to("18446744073709551615", false, UINT64_MAX);
}

static void test_decimal_overflow(void **state)
{
	rejects("18446744073709551616", false);
	rejects("18446744073709551620", false);
	rejects("99999999999999999999", false);
	rejects("184467440737095516150", false);
}

static void test_hex(void **state)
{
	parses_to("0x0", false, 0);
	parses_to("0x1f", false, 0x1f);
	parses_to("0XABCDEF", false, 0xabcdef);
	parses_to("0xaBcD", false, 0xabcd);
	parses_to("0xffffffffffffffff", false, UINT64_MAX);
	parses_to("0x0000000000000000001", false, 1);
}

static void test_hex_overflow(void **state)
{
	rejects("0x10000000000000000", false);
	rejects("0x1ffffffffffffffff", false);
}

static void test_suffixes(void **state)
{
	parses_to("4K", true, 4096);
	parses_to("4k", true, 4096);
	parses_to("16M", true, MiB(16));
	parses_to("16m", true, MiB(16));
	parses_to("3G", true, GiB(3));
	parses_to("1g", true, GiB(1));
	parses_to("0K", true, 0);
	parses_to("1048576", true, MiB(1));
}

static void test_suffix_needs_permission(void **state)
{
	rejects("4K", false);
	rejects("16M", false);
	rejects("1G", false);
}

static void test_suffix_only_in_decimal(void **state)
{
	rejects("0x10K", true);
	rejects("0x1M", true);
	rejects("0x1G", true);
	/* in hex, a trailing 'B' is a digit, not a unit */
	parses_to("0x1B", true, 0x1b);
}

static void test_suffix_overflow(void **state)
{
	parses_to("17179869183G", true, 17179869183ull << 30);
	rejects("17179869184G", true);
	rejects("18014398509481984K", true);
	parses_to("18014398509481983K", true, 18014398509481983ull << 10);
	rejects("17592186044416M", true);
	rejects("18446744073709551615K", true);
}

static void test_empty(void **state)
{
	uint64_t v;
	assert_int_equal(parse_u64("", 0, false, &v), -EINVAL);
	assert_int_equal(parse_u64("", 0, true, &v), -EINVAL);
	assert_int_equal(parse_u64("123", 0, false, &v), -EINVAL);
	rejects("K", true);
	rejects("M", true);
}

static void test_bare_hex_prefix(void **state)
{
	rejects("0x", false);
	rejects("0X", true);
}

static void test_junk(void **state)
{
	rejects("12a", false);
	rejects("a12", false);
	rejects(" 12", false);
	rejects("12 ", false);
	rejects("-1", false);
	rejects("+1", false);
	rejects("1.5", true);
	rejects("0xg", false);
	rejects("0x12z", false);
	rejects("4KB", true);
	rejects("4T", true);
	rejects("K4", true);
	rejects("0x-1", false);
}

static void test_only_len_bytes_are_read(void **state)
{
	uint64_t v = 0;
	assert_int_equal(parse_u64("123xyz", 3, false, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(parse_u64("2M,junk", 2, true, &v), 0);
	assert_int_equal(v, MiB(2));
	assert_int_equal(parse_u64("0x10zz", 4, false, &v), 0);
	assert_int_equal(v, 0x10);
}

static void test_strlcpy_fits(void **state)
{
	char buf[8];
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(buf[4], 'Z');
}

static void test_strlcpy_exact(void **state)
{
	char buf[4];
	assert_int_equal(strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
}

static void test_strlcpy_truncates(void **state)
{
	char buf[4];
	assert_int_equal(strlcpy(buf, "abcdefgh", sizeof(buf)), 8);
	assert_string_equal(buf, "abc");
}

static void test_strlcpy_size_one(void **state)
{
	char buf[2] = { 'Z', 'Z' };
	assert_int_equal(strlcpy(buf, "abc", 1), 3);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 'Z');
}

static void test_strlcpy_size_zero(void **state)
{
	char buf[2] = { 'Z', 'Z' };
	assert_int_equal(strlcpy(buf, "abc", 0), 3);
	assert_int_equal(buf[0], 'Z');
}

static unsigned calls;
static uint64_t counted(uint64_t v)
{
	calls++;
	return v;
}

/* MIN(next, poll(v)) must poll once: the scheduler's timer polls fired twice when it did not. */
static void test_min_max_evaluate_once(void **state)
{
	calls = 0;
	assert_int_equal(MIN(counted(3), counted(5)), 3);
	assert_int_equal(calls, 2);
	assert_int_equal(MIN(counted(7), counted(5)), 5);
	assert_int_equal(calls, 4);
	assert_int_equal(MAX(counted(3), counted(5)), 5);
	assert_int_equal(MAX(counted(7), counted(5)), 7);
	assert_int_equal(calls, 8);
}

static void test_popcount64(void **state)
{
	assert_int_equal(popcount64(0), 0);
	assert_int_equal(popcount64(1), 1);
	assert_int_equal(popcount64(UINT64_MAX), 64);
	assert_int_equal(popcount64(0x8000000000000001ull), 2);
	assert_int_equal(popcount64(0x00ff00ff00ff00ffull), 32);
	for (unsigned b = 0; b < 64; b++)
		assert_int_equal(popcount64(~(1ull << b)), 63);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_decimal_overflow),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hex_overflow),
		cmocka_unit_test(test_suffixes),
		cmocka_unit_test(test_suffix_needs_permission),
		cmocka_unit_test(test_suffix_only_in_decimal),
		cmocka_unit_test(test_suffix_overflow),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bare_hex_prefix),
		cmocka_unit_test(test_junk),
		cmocka_unit_test(test_only_len_bytes_are_read),
		cmocka_unit_test(test_strlcpy_fits),
		cmocka_unit_test(test_strlcpy_exact),
		cmocka_unit_test(test_strlcpy_truncates),
		cmocka_unit_test(test_strlcpy_size_one),
		cmocka_unit_test(test_strlcpy_size_zero),
		cmocka_unit_test(test_min_max_evaluate_once),
		cmocka_unit_test(test_popcount64),
	};
	return cmocka_run_group_tests_name("string", tests, NULL, NULL);
}
