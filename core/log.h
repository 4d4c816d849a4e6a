/*
 * Console output and log levels. Every hypervisor line starts with "hv: ";
 * guest console lines start with "[vmN] " (core/vm.c).
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include "core/printf.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "err", "warn", "info", "debug" (or 0-3); returns -EINVAL otherwise. */
int log_parse_level(const char *s, size_t len, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * Subsystems with a level of their own (loglevel=hc:debug,sched:warn); a
 * subsystem without one follows the global level. hc at debug prints every
 * hypercall as it completes.
 */
enum log_sub { LOG_SUB_CORE, LOG_SUB_SCHED, LOG_SUB_MEM, LOG_SUB_HC, LOG_SUB_KVM, LOG_SUB_HYPERV,
               LOG_SUB_XEN, LOG_SUB_ARCH, LOG_NR_SUBS };
int log_parse_sub(const char *s, size_t len, enum log_sub *out);
void log_set_sub_level(enum log_sub sub, enum log_level level);
/* The level each subsystem prints at (its own, or the global one): kept by the setters above. */
extern int8_t log_sub_effective[LOG_NR_SUBS];
static inline bool log_sub_enabled(enum log_sub sub, enum log_level level)
{
	return (int)level <= log_sub_effective[sub];
}
void log_sub(enum log_sub sub, enum log_level level, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Every subsystem back to following the global level. */
void log_reset_subs(void);
/* Raw console output, no prefix, no level filter. */
void con_printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
void con_write(const char *s, size_t len);

/*
 * A file's messages belong to its subsystem: it defines LOG_SUB_FILE
 * before its first #include (arch/x86 files: LOG_SUB_ARCH, ...); core/ is
 * the default.
 */
#ifndef LOG_SUB_FILE
#define LOG_SUB_FILE LOG_SUB_CORE
#endif
#define pr_err(...)   log_sub(LOG_SUB_FILE, LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_sub(LOG_SUB_FILE, LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_sub(LOG_SUB_FILE, LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_sub(LOG_SUB_FILE, LOG_DEBUG, __VA_ARGS__)

#endif
