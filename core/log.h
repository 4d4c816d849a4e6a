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
/* Raw console output, no prefix, no level filter. */
void con_printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
void con_write(const char *s, size_t len);

#define pr_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
