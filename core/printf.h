/* A small printf: %d %i %u %x %X %p %s %c %%, flags '-' '0', width, precision (%.Ns), l/ll/z/h. */
#ifndef CORE_PRINTF_H
#define CORE_PRINTF_H

#include <stdarg.h>
#include "core/types.h"

typedef void (*fmt_put_fn)(void *ctx, char c);

/* Returns the number of characters produced. */
int fmt_vformat(fmt_put_fn put, void *ctx, const char *fmt, va_list ap);
/* Like snprintf: always terminates when size > 0; returns the untruncated length. */
int hv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int hv_snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
