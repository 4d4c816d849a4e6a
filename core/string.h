/* Freestanding string helpers (the image has no libc; host tests use libc's). */
#ifndef CORE_STRING_H
#define CORE_STRING_H

#include "core/types.h"

#ifdef HV_HOSTED
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
void *memchr(const void *s, int c, size_t n);
#endif

/* Copies at most size-1 bytes and always terminates (when size > 0); returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);

/*
 * Parses an unsigned number: decimal, or hex with 0x; an optional K/M/G suffix
 * multiplies when `suffix` is true. Returns 0 on success, -EINVAL on junk or
 * overflow. The whole of [s, s+len) must be consumed.
 */
int parse_u64(const char *s, size_t len, bool suffix, uint64_t *out);

#endif
