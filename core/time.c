#include "core/time.h"

static struct {
	uint64_t hz;
	uint64_t counter0, wall0;
	struct time_scale ns;
} tm;

/*
 * The pvclock scale (Linux arch/x86/include/asm/pvclock-abi.h describes the
 * guest side: delta shifted by tsc_shift, times tsc_to_system_mul, >> 32).
 * Normalise `from` into [to/2, to) scaled by a power of two, then
 * mul = to * 2^32 / from, which is below 2^32.
 */
struct time_scale time_make_scale(uint64_t from_hz, uint64_t to_hz)
{
	int shift = 0;
	uint64_t from = from_hz, to = to_hz;
	if (!from || !to)
		return (struct time_scale){ 0, 0 };
	while (from > 2 * to || (from >> 32)) {
		from >>= 1;
		shift--;
	}
	while (from <= to || (to >> 32)) {
		if ((to >> 32) || (from & 0x80000000u))
			to >>= 1;
		else
			from <<= 1;
		shift++;
	}
	return (struct time_scale){ (uint32_t)((to << 32) / from), (int8_t)shift };
}

uint64_t time_apply_scale(uint64_t delta, struct time_scale s)
{
	if (s.shift < 0)
		delta >>= -s.shift;
	else
		delta <<= s.shift;
	return (uint64_t)(((unsigned __int128)delta * s.mul) >> 32);
}

void time_init(uint64_t counter_hz, uint64_t counter_now, uint64_t wall_ns_now)
{
	tm.hz = counter_hz;
	tm.counter0 = counter_now;
	tm.wall0 = wall_ns_now;
	tm.ns = time_make_scale(counter_hz, NSEC_PER_SEC);
}

uint64_t time_counter_hz(void) { return tm.hz; }
struct time_scale time_ns_scale(void) { return tm.ns; }

uint64_t time_wall_ns(uint64_t counter)
{
	return tm.wall0 + time_apply_scale(counter - tm.counter0, tm.ns);
}
