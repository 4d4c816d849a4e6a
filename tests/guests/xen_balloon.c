/*
 * Ballooning (xen/include/public/memory.h XENMEM_decrease_reservation,
 * XENMEM_populate_physmap, XENMEM_current_reservation): a page of ours
 * leaves the domain and comes back zeroed; the domain's page count follows.
 * The page is not touched while it is out: under Xen that faults and the
 * domain crashes, and here the VM would end the same way.
 */
#include "xen.h"

#define XENMEM_decrease_reservation 1
#define XENMEM_current_reservation  3
#define XENMEM_populate_physmap     6

/* struct xen_memory_reservation: the natural layout is right in both builds (ulong = xen_ulong_t) */
struct xen_memory_reservation {
	ulong extent_start;        /* XEN_GUEST_HANDLE(xen_pfn_t) */
	ulong nr_extents;
	uint32_t extent_order, mem_flags;
	uint16_t domid;
};

static uint8_t balloon[2][4096] __attribute__((aligned(4096)));

static ulong pages_now(void)
{
	uint16_t self = DOMID_SELF;
	return xen_hc(__HYPERVISOR_memory_op, XENMEM_current_reservation, (ulong)&self, 0);
}

void xen_balloon_checks(void)
{
	ulong gfns[2] = { (ulong)balloon[0] >> 12, (ulong)balloon[1] >> 12 };
	struct xen_memory_reservation r = { (ulong)gfns, 2, 0, 0, DOMID_SELF };
	memset(balloon, 0xab, sizeof(balloon));
	ulong before = pages_now();
	expect_xen("decrease_reservation of 2 pages", xen_hc(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, (ulong)&r, 0), 2);
	expect_xen("current_reservation after", pages_now(), before - 2);
	/* a page that is already out cannot go again: 0 extents done */
	r.nr_extents = 1;
	expect_xen("the same page again", xen_hc(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, (ulong)&r, 0), 0);
	r.nr_extents = 2;
	expect_xen("populate_physmap of 2 pages", xen_hc(__HYPERVISOR_memory_op, XENMEM_populate_physmap, (ulong)&r, 0), 2);
	expect_xen("current_reservation back", pages_now(), before);
	for (unsigned i = 0; i < sizeof(balloon); i++)
		if (balloon[i / 4096][i % 4096]) {
			check_fail("byte %u of a repopulated page is 0x%x, want 0", i, balloon[i / 4096][i % 4096]);
			break;
		}
	check_done(XEN_SUITE, "balloon");
}
