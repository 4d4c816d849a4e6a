/* core/time.c: the pvclock-style scale and the wall clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/time.h"
#include "tests/fake_arch/fake_test.h"

/* One second of ticks must come out as one second, to within a few ns, at any rate. */
static void test_scale_one_second(void **state)
{
	static const uint64_t rates[] = {
		25000000, 100000000, 100003000, 999999999, 1000000000, 1000000001,
		2457827000, 3500000000, 4294967295ull, 4294967296ull, 10000000000ull,
	};
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct time_scale s = time_make_scale(rates[i], NSEC_PER_SEC);
		uint64_t ns = time_apply_scale(rates[i], s);
		int64_t err = (int64_t)ns - (int64_t)NSEC_PER_SEC;
		if (err < -4 || err > 4)
			fail_fmt("%llu Hz: one second of ticks gave %llu ns (mul %u shift %d)",
			         (unsigned long long)rates[i], (unsigned long long)ns, s.mul, s.shift);
	}
}

/* An hour of a 3 GHz counter: the scale stays within a microsecond. */
static void test_scale_one_hour(void **state)
{
	struct time_scale s = time_make_scale(3000000000ull, NSEC_PER_SEC);
	uint64_t ns = time_apply_scale(3000000000ull * 3600, s);
	uint64_t want = 3600 * NSEC_PER_SEC;
	assert_true(ns > want - 1000 && ns < want + 1000);
}

/* The guest-side formula: shift, then a 64x32 multiply keeping bits 95:32. */
static void test_apply_matches_pvclock_formula(void **state)
{
	struct time_scale s = { .mul = 0x80000000u, .shift = -1 };
	assert_int_equal(time_apply_scale(1000, s), 250);
	s = (struct time_scale){ .mul = 0xc0000000u, .shift = 2 };
	assert_int_equal(time_apply_scale(1000, s), 3000);
	s = (struct time_scale){ .mul = 0xffffffffu, .shift = 0 };
	assert_int_equal(time_apply_scale(UINT64_MAX, s), 0xfffffffeffffffffull);
}

static void test_zero_rate_gives_zero_scale(void **state)
{
	struct time_scale s = time_make_scale(0, NSEC_PER_SEC);
	assert_int_equal(s.mul, 0);
	assert_int_equal(time_apply_scale(123456, s), 0);
}

static void test_wall_clock_follows_counter(void **state)
{
	time_init(2000000000, 5000, 1700000000ull * NSEC_PER_SEC);
	assert_int_equal(time_counter_hz(), 2000000000);
	assert_true(time_wall_ns(5000) == 1700000000ull * NSEC_PER_SEC);
	uint64_t later = time_wall_ns(5000 + 3 * 2000000000ull);
	assert_true(later >= 1700000003ull * NSEC_PER_SEC - 2 && later <= 1700000003ull * NSEC_PER_SEC + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_one_second),
		cmocka_unit_test(test_scale_one_hour),
		cmocka_unit_test(test_apply_matches_pvclock_formula),
		cmocka_unit_test(test_zero_rate_gives_zero_scale),
		cmocka_unit_test(test_wall_clock_follows_counter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
