#include "core/arch.h"
#include "core/log.h"
#include "core/string.h"

static enum log_level log_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "err", [LOG_WARN] = "warn", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static void update_effective(void);

void log_set_level(enum log_level level)
{
	log_level = level;
	update_effective();
}
enum log_level log_get_level(void) { return log_level; }

int log_parse_level(const char *s, size_t len, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		size_t n = strlen(level_names[i]);
		if ((len == n && !memcmp(s, level_names[i], n)) ||
		    (len == 1 && s[0] == (char)('0' + i))) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Serial consoles want CRLF; everything else in the hypervisor writes '\n'. */
static void con_put(void *ctx UNUSED, char c)
{
	if (c == '\n')
		arch_console_putc('\r');
	arch_console_putc(c);
}

void con_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		con_put(NULL, s[i]);
}

void con_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vformat(con_put, NULL, fmt, ap);
	va_end(ap);
}

static void log_line(const char *fmt, va_list ap)
{
	con_write("hv: ", 4);
	fmt_vformat(con_put, NULL, fmt, ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

static const char *const sub_names[LOG_NR_SUBS] = {
	[LOG_SUB_CORE] = "core", [LOG_SUB_SCHED] = "sched", [LOG_SUB_MEM] = "mem", [LOG_SUB_HC] = "hc",
	[LOG_SUB_KVM] = "kvm", [LOG_SUB_HYPERV] = "hyperv", [LOG_SUB_XEN] = "xen", [LOG_SUB_ARCH] = "arch",
};
static int8_t sub_level[LOG_NR_SUBS] = { -1, -1, -1, -1, -1, -1, -1, -1 };   /* -1: the global level */
int8_t log_sub_effective[LOG_NR_SUBS] = {
	LOG_INFO, LOG_INFO, LOG_INFO, LOG_INFO, LOG_INFO, LOG_INFO, LOG_INFO, LOG_INFO,
};

/* What each subsystem prints now, so that the check on a hot path is one load. */
static void update_effective(void)
{
	for (size_t i = 0; i < LOG_NR_SUBS; i++)
		log_sub_effective[i] = sub_level[i] < 0 ? (int8_t)log_level : sub_level[i];
}

int log_parse_sub(const char *s, size_t len, enum log_sub *out)
{
	for (size_t i = 0; i < LOG_NR_SUBS; i++)
		if (strlen(sub_names[i]) == len && !memcmp(s, sub_names[i], len)) {
			*out = (enum log_sub)i;
			return 0;
		}
	return -EINVAL;
}

void log_set_sub_level(enum log_sub sub, enum log_level level)
{
	sub_level[sub] = (int8_t)level;
	update_effective();
}

void log_reset_subs(void)
{
	for (size_t i = 0; i < LOG_NR_SUBS; i++)
		sub_level[i] = -1;
	update_effective();
}

void log_sub(enum log_sub sub, enum log_level level, const char *fmt, ...)
{
	if (!log_sub_enabled(sub, level))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}
