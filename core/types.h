/* Basic types shared by every part of the hypervisor (and the host unit tests). */
#ifndef CORE_TYPES_H
#define CORE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Typed addresses: a guest-physical or guest-virtual address is a struct so it
 * can never be used as a host pointer by accident. Host-physical addresses are
 * plain integers because the hypervisor identity-maps host memory.
 */
typedef struct { uint64_t v; } gpa_t;
typedef struct { uint64_t v; } gva_t;
typedef uint64_t hpa_t;

static inline gpa_t mk_gpa(uint64_t v) { return (gpa_t){ v }; }
static inline gva_t mk_gva(uint64_t v) { return (gva_t){ v }; }

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ull << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))
#define LARGE_PAGE_SIZE (1ull << 21)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define ALIGN_UP(x, a)   ALIGN_DOWN((x) + (a) - 1, (a))

/* Set bits in x. Not __builtin_popcount: without -mpopcnt it calls libgcc, which the hypervisor does not link. */
static inline unsigned popcount64(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
/* Each argument is evaluated once: MIN(next, poll(v)) must not poll twice. */
#define MIN(a, b) ({ __typeof__(a) a_ = (a); __typeof__(b) b_ = (b); a_ < b_ ? a_ : b_; })
#define MAX(a, b) ({ __typeof__(a) a_ = (a); __typeof__(b) b_ = (b); a_ > b_ ? a_ : b_; })

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define UNUSED __attribute__((unused))
#define NORETURN __attribute__((noreturn))
#define PACKED __attribute__((packed))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* errno values used inside the hypervisor; each ABI maps them to its own codes. */
#define EPERM   1
#define EIO     5
#define ENOENT  2
#define E2BIG   7
#define EAGAIN  11
#define ENOMEM  12
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define EINVAL  22
#define ENOSPC  28
#define ENOSYS  38
#define EOPNOTSUPP 95

#endif
