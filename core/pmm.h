/*
 * Physical page allocator: a bitmap over the RAM the firmware reported usable,
 * minus everything that is not ours to give (below 1 MiB, our image, the boot
 * modules, firmware and ACPI regions).
 */
#ifndef CORE_PMM_H
#define CORE_PMM_H

#include "core/types.h"

struct boot_info;

struct pmm_range { hpa_t base; uint64_t len; };

/*
 * Builds the allocator from the memory map. `exclude` lists ranges that must
 * never be handed out even if the map calls them usable. Returns 0 or -ENOMEM.
 */
int pmm_init(const struct boot_info *bi, const struct pmm_range *exclude, size_t nr_exclude);
/* `npages` contiguous pages aligned to `align` bytes (a power of two >= 4 KiB), zeroed. 0 on failure. */
hpa_t pmm_alloc(size_t npages, uint64_t align);
void pmm_free(hpa_t base, size_t npages);
uint64_t pmm_free_pages(void);
uint64_t pmm_total_pages(void);
/*
 * Boot work for time spent waiting anyway (the TSC calibration's PIT
 * window): zeroes the next free frame, in the order pmm_alloc hands frames
 * out, and marks it so that pmm_alloc does not zero it again. A frame
 * handed out loses the mark, so a freed one is zeroed when it goes out
 * again. False once every free frame is zeroed.
 */
bool pmm_zero_ahead(void);
/* True if the frame holding `pa` is free, i.e. could be handed out now. */
bool pmm_frame_free(hpa_t pa);

#endif
