#include "core/log.h"
#include "core/selftest.h"
#include "core/string.h"

enum selftest hv_selftest = SELFTEST_NONE;

static const char *const names[] = {
	[SELFTEST_UD] = "ud", [SELFTEST_WRITE_TEXT] = "write-text",
	[SELFTEST_EXEC_DATA] = "exec-data", [SELFTEST_NULL] = "null",
	[SELFTEST_BAD_ENTRY] = "bad-entry", [SELFTEST_BAD_CONTROL] = "bad-control",
};

int selftest_parse(const char *s, size_t len)
{
	for (size_t i = 1; i < ARRAY_SIZE(names); i++) {
		if (strlen(names[i]) == len && !memcmp(s, names[i], len)) {
			hv_selftest = (enum selftest)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Each of these must fault; reaching the end of one is itself the failure. */
static const uint8_t data_ret = 0xc3;   /* RET, placed in a non-executable page */

void selftest_run_host(void)
{
	volatile uint8_t *p;
	switch (hv_selftest) {
	case SELFTEST_UD:
		pr_info("selftest: executing an invalid opcode\n");
		__builtin_trap();
	case SELFTEST_WRITE_TEXT:
		pr_info("selftest: writing to our own code at %p\n", (void *)selftest_run_host);
		p = (volatile uint8_t *)(uintptr_t)selftest_run_host;
		*p = *p;
		break;
	case SELFTEST_EXEC_DATA:
		pr_info("selftest: jumping into our own data at %p\n", (const void *)&data_ret);
		((void (*)(void))(uintptr_t)&data_ret)();
		break;
	case SELFTEST_NULL: {
		/* hide the 0 from the compiler, which may turn a NULL load into a trap */
		uintptr_t zero;
		__asm__("" : "=r"(zero) : "0"((uintptr_t)0));
		pr_info("selftest: reading address 0\n");
		(void)*(volatile uint8_t *)zero;
		break;
	}
	default:
		return;
	}
	pr_err("selftest: the access did not fault\n");
}
