/*
 * Two Xen domains on the fake machine, through the real dispatcher: grant
 * tables (grant_table_op; xen/include/public/grant_table.h, the behaviour
 * of xen/common/grant_table.c and xen/arch/x86/hvm/grant_table.c), the
 * table's frames in memory_op (add_to_physmap, remove_from_physmap),
 * interdomain event channels (event_channel.h) and what a domain's end
 * undoes. Domain 1 (vm A) grants, domain 2 (vm B) maps. Tests named
 * ".../32" make their calls from 32-bit mode (the compat layouts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/gmem.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/xen/xen_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define RAM MiB(1)
#define BUF 0x4000ull                    /* op structs */
#define LIST 0x5000ull                   /* frame lists, batches */
#define SHINFO 0x10000ull
#define GT 0x20000ull                    /* where A puts its grant frame 0 */
#define PAGE 0x30000ull                  /* the page A grants */
#define MINE 0x40000ull                  /* a page of B's own */
#define AT_RAM 0x50000ull                /* B maps over its RAM here ... */
#define AT_HOLE 0x200000ull              /* ... or here, past its RAM */
#define REF 8                            /* the first entry Linux uses */
#define RIP0 0x1000ull
#define ILEN 3

static enum cpu_mode mode;
static struct vm *A, *B, *C;                  /* C: a third domain, where a test makes one */
static struct vcpu *va, *vb;
static struct boot_info bi;

static uint8_t *hva(struct vm *vm, uint64_t gpa) { return fake_vm_hva(vm, gpa); }

static int64_t hc_regs(struct vcpu *c)
{
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = ILEN, .mode = mode, .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(c, &e);
	uint64_t rax = c->regs.gpr[X86_RAX];
	return mode == MODE_64 ? (int64_t)rax : (int64_t)(int32_t)rax;
}

static int64_t hc(struct vcpu *c, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	bool lm = mode == MODE_64;
	c->regs.rip = RIP0;
	c->regs.gpr[X86_RAX] = nr;
	c->regs.gpr[lm ? X86_RDI : X86_RBX] = a0;
	c->regs.gpr[lm ? X86_RSI : X86_RCX] = a1;
	c->regs.gpr[X86_RDX] = a2;
	return hc_regs(c);
}

static struct vm *new_domain(unsigned id)
{
	struct vm *vm = fake_vm_new();
	vm->id = id;
	fake_vm_add_slot(vm, 0, RAM, 0, (uint8_t)(0x10 + id));
	vm->mem_size = RAM;
	hc_vm_set_abis(vm, (const struct hc_abi *const[]){ &xen_abi }, 1);
	vm->state = VM_RUNNING;
	struct vcpu *c = fake_vcpu_new(vm);
	c->state = VCPU_RUNNABLE;
	return vm;
}

static int setup(void **state)
{
	mode = *(enum cpu_mode *)*state;
	fake_arch_reset();
	fake_pmm_setup(&bi);
	time_init(2000000000ull, 0, 0);
	A = new_domain(0);
	B = new_domain(1);
	C = NULL;
	va = A->vcpus[0];
	vb = B->vcpus[1 - 1];
	for (unsigned i = 0; i < 2; i++)
		fake.ctrl[i].efer = mode == MODE_64 ? 1ull << 10 : 0;
	return 0;
}

static int teardown(void **state)
{
	hc_vm_destroy(A);
	hc_vm_destroy(B);
	if (C)
		hc_vm_destroy(C);
	fake_cleanup();
	return 0;
}

/* ---- calls ---- */

static int64_t memop_place(struct vcpu *c, uint32_t space, uint64_t idx, uint64_t gpfn)
{
	uint8_t b[24] = { 0 };
	bool lm = mode == MODE_64;
	memcpy(b, &(uint16_t){ DOMID_SELF }, 2);
	memcpy(b + 4, &space, 4);
	memcpy(b + 8, &idx, lm ? 8 : 4);
	memcpy(b + (lm ? 16 : 12), &gpfn, lm ? 8 : 4);
	memcpy(hva(c->vm, BUF), b, sizeof(b));
	return hc(c, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0);
}

static int64_t memop_remove(struct vcpu *c, uint64_t gpfn)
{
	uint8_t b[16] = { 0 };
	bool lm = mode == MODE_64;
	memcpy(b, &(uint16_t){ DOMID_SELF }, 2);
	memcpy(b + (lm ? 8 : 4), &gpfn, lm ? 8 : 4);
	memcpy(hva(c->vm, BUF), b, sizeof(b));
	return hc(c, __HYPERVISOR_memory_op, XENMEM_remove_from_physmap, BUF, 0);
}

static int64_t gnt(struct vcpu *c, uint64_t cmd, uint64_t uop, uint64_t count)
{
	return hc(c, __HYPERVISOR_grant_table_op, cmd, uop, count);
}

/* A's entry `ref`, written through its frame at GT as the guest writes it (flags last) */
static void grant(uint32_t ref, uint16_t flags, uint16_t domid, uint32_t frame)
{
	uint8_t e[8];
	memcpy(e, &flags, 2);
	memcpy(e + 2, &domid, 2);
	memcpy(e + 4, &frame, 4);
	assert_int_equal(gmem_write(A, mk_gpa(GT + ref * 8ull), e, 8), 0);
}

static uint16_t flags_of(uint32_t ref)
{
	uint16_t f;
	assert_int_equal(gmem_read(A, mk_gpa(GT + ref * 8ull), &f, 2), 0);
	return f;
}

/* A with its frame 0 at GT and entry REF granting PAGE to domain 2 */
static void a_grants(uint16_t flags)
{
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 0, GT >> 12), 0);
	grant(REF, flags, 2, PAGE >> 12);
	memcpy(hva(A, PAGE), "granted!", 8);
}

struct map_op { uint64_t host_addr; uint32_t flags, ref; uint16_t dom; int16_t status; uint32_t handle; uint64_t bus; };

static struct map_op map_op(struct vcpu *c, uint64_t host_addr, uint32_t flags, uint32_t ref, uint16_t dom)
{
	struct map_op m = { host_addr, flags, ref, dom, 1, 0xdead, 0xbeef };
	memcpy(hva(c->vm, BUF), &m, sizeof(m));
	assert_int_equal(gnt(c, GNTTABOP_map_grant_ref, BUF, 1), 0);
	memcpy(&m, hva(c->vm, BUF), sizeof(m));
	return m;
}
static int16_t map_st(uint64_t host_addr, uint32_t flags, uint32_t ref, uint16_t dom)
{
	return map_op(vb, host_addr, flags, ref, dom).status;
}

static int16_t unmap_st(struct vcpu *c, uint64_t host_addr, uint32_t handle, uint64_t bus)
{
	struct { uint64_t host_addr, bus; uint32_t handle; int16_t status; uint16_t pad; } u =
		{ host_addr, bus, handle, 1, 0 };
	memcpy(hva(c->vm, BUF), &u, sizeof(u));
	assert_int_equal(gnt(c, GNTTABOP_unmap_grant_ref, BUF, 1), 0);
	memcpy(&u, hva(c->vm, BUF), sizeof(u));
	return u.status;
}

/* One gnttab_copy op in vm's memory at `at`, in the caller's layout; the status offset returned. */
static size_t put_copy(struct vm *vm, uint64_t at, uint64_t su, uint16_t sdom, uint16_t soff,
                       uint64_t du, uint16_t ddom, uint16_t doff, uint16_t len, uint16_t flags)
{
	bool lm = mode == MODE_64;
	uint8_t b[40] = { 0 };
	size_t p = lm ? 16 : 8;
	memcpy(b, &su, lm ? 8 : 4);
	memcpy(b + (lm ? 8 : 4), &sdom, 2);
	memcpy(b + (lm ? 10 : 6), &soff, 2);
	memcpy(b + p, &du, lm ? 8 : 4);
	memcpy(b + p + (lm ? 8 : 4), &ddom, 2);
	memcpy(b + p + (lm ? 10 : 6), &doff, 2);
	memcpy(b + 2 * p, &len, 2);
	memcpy(b + 2 * p + 2, &flags, 2);
	memcpy(b + 2 * p + 4, &(int16_t){ 1 }, 2);
	memcpy(hva(vm, at), b, lm ? 40 : 24);
	return 2 * p + 4;
}

/* One copy by vCPU c (of B unless said): its status. */
static int16_t copy_st_by(struct vcpu *c, uint64_t su, uint16_t sdom, uint16_t soff, uint64_t du, uint16_t ddom,
                          uint16_t doff, uint16_t len, uint16_t flags)
{
	size_t at = put_copy(c->vm, BUF, su, sdom, soff, du, ddom, doff, len, flags);
	assert_int_equal(gnt(c, GNTTABOP_copy, BUF, 1), 0);
	int16_t st;
	memcpy(&st, hva(c->vm, BUF + at), 2);
	return st;
}
static int16_t copy_st(uint64_t su, uint16_t sdom, uint16_t soff, uint64_t du, uint16_t ddom, uint16_t doff,
                       uint16_t len, uint16_t flags)
{
	return copy_st_by(vb, su, sdom, soff, du, ddom, doff, len, flags);
}

/* ---- the table ---- */

struct query { uint16_t dom, pad; uint32_t nr, max; int16_t status; uint16_t pad2; };
static struct query query(struct vcpu *c, uint16_t dom)
{
	struct query q = { dom, 0, 0xdead, 0xbeef, 1, 0 };
	memcpy(hva(c->vm, BUF), &q, sizeof(q));
	assert_int_equal(gnt(c, GNTTABOP_query_size, BUF, 1), 0);
	memcpy(&q, hva(c->vm, BUF), sizeof(q));
	return q;
}

static void test_query_size(void **state)
{
	struct query q = query(va, DOMID_SELF);
	assert_int_equal(q.status, GNTST_okay);
	assert_int_equal(q.nr, 1);                                   /* Xen's initial size */
	assert_int_equal(q.max, XEN_GNTTAB_MAX_FRAMES);
	assert_int_equal(query(va, 1).status, GNTST_okay);           /* its own number */
	q = query(va, 2);                                            /* another domain's: not ours to see */
	assert_int_equal(q.status, GNTST_permission_denied);
	assert_int_equal(q.nr, 0xdead);                              /* the rest comes back as it was */
	assert_int_equal(query(va, 9).status, GNTST_bad_domain);
	assert_int_equal(gnt(va, GNTTABOP_query_size, BUF, 0), -XEN_EINVAL);
	assert_int_equal(gnt(va, GNTTABOP_query_size, BUF, 2), -XEN_EINVAL);
	assert_int_equal(gnt(va, GNTTABOP_query_size, RAM - 8, 1), -XEN_EFAULT);
}

static int16_t setup_table(uint16_t dom, uint32_t nr, uint64_t list)
{
	bool lm = mode == MODE_64;
	uint8_t s[24];
	memset(s, 0, sizeof(s));
	memcpy(s, &dom, 2);
	memcpy(s + 4, &nr, 4);
	memcpy(s + 8, &(int16_t){ 1 }, 2);
	memcpy(s + (lm ? 16 : 12), &list, lm ? 8 : 4);
	memcpy(hva(A, BUF), s, sizeof(s));
	assert_int_equal(gnt(va, GNTTABOP_setup_table, BUF, 1), 0);
	int16_t st;
	memcpy(&st, hva(A, BUF + 8), 2);
	return st;
}

static void test_setup_table(void **state)
{
	bool lm = mode == MODE_64;
	memset(hva(A, LIST), 0x5a, 64);
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 1, GT >> 12), 0);   /* grows to 2 */
	if (lm) {
		assert_int_equal(setup_table(DOMID_SELF, 3, LIST), GNTST_okay);
		uint64_t f[4];
		memcpy(f, hva(A, LIST), sizeof(f));
		assert_int_equal(f[0], UINT64_MAX);                      /* never placed */
		assert_int_equal(f[1], GT >> 12);
		assert_int_equal(f[2], UINT64_MAX);
		assert_int_equal(f[3], 0x5a5a5a5a5a5a5a5aull);           /* past nr_frames: untouched */
	} else {
		/* a 32-bit list: placed frames fit, one placed nowhere does not (Xen compat) */
		assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 0, (GT >> 12) + 1), 0);
		assert_int_equal(setup_table(DOMID_SELF, 2, LIST), GNTST_okay);
		uint32_t f[3];
		memcpy(f, hva(A, LIST), sizeof(f));
		assert_int_equal(f[0], (GT >> 12) + 1);
		assert_int_equal(f[1], GT >> 12);
		assert_int_equal(f[2], 0x5a5a5a5a);
		assert_int_equal(setup_table(DOMID_SELF, 3, LIST), GNTST_address_too_big);
		assert_int_equal(gnt(va, GNTTABOP_setup_table, BUF, 0), 0);   /* compat: count 0 does nothing */
	}
	assert_int_equal(query(va, DOMID_SELF).nr, 3);
	assert_int_equal(setup_table(DOMID_SELF, XEN_GNTTAB_MAX_FRAMES + 1, LIST), GNTST_general_error);
	assert_int_equal(setup_table(2, 1, LIST), GNTST_permission_denied);
	assert_int_equal(setup_table(7, 1, LIST), GNTST_bad_domain);
	assert_int_equal(setup_table(DOMID_SELF, 1, RAM - 2), GNTST_bad_virt_addr);
	assert_int_equal(gnt(va, GNTTABOP_setup_table, BUF, 2), -XEN_EINVAL);
	if (lm)
		assert_int_equal(gnt(va, GNTTABOP_setup_table, BUF, 0), -XEN_EINVAL);
}

static void test_frames_in_the_guest(void **state)
{
	uint8_t b;
	/* RAM at the gfn is given up for the frame, which starts empty */
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 0, GT >> 12), 0);
	assert_int_equal(A->nr_removed, 1);
	assert_int_equal(gmem_read(A, mk_gpa(GT), &b, 1), 0);
	assert_int_equal(b, 0);
	assert_int_equal(fake.page_maps, 1);
	assert_true(fake.page_map_log[0].writable && fake.page_map_log[0].present);
	grant(REF, GTF_permit_access, 2, PAGE >> 12);
	/* moved: the content goes along, the old gfn is empty */
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 0, (GT >> 12) + 1), 0);
	assert_int_equal(gmem_read(A, mk_gpa(GT), &b, 1), -EFAULT);
	uint16_t f;
	assert_int_equal(gmem_read(A, mk_gpa(GT + 0x1000 + REF * 8), &f, 2), 0);
	assert_int_equal(f, GTF_permit_access);
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 0, (GT >> 12) + 1), 0);   /* same place */
	/* frame 1 placed over frame 0 unhooks frame 0 */
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 1, (GT >> 12) + 1), 0);
	assert_int_equal(gmem_read(A, mk_gpa(GT + 0x1000 + REF * 8), &f, 2), 0);
	assert_int_equal(f, 0);
	/* errors */
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, XEN_GNTTAB_MAX_FRAMES, GT >> 12), -XEN_EINVAL);
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, XENMAPIDX_grant_table_status, GT >> 12),
	                 -XEN_EINVAL);                               /* a v1 table has no status frames */
	assert_int_equal(memop_place(va, XENMAPSPACE_shared_info, 0, SHINFO >> 12), 0);
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 2, SHINFO >> 12), -XEN_EBUSY);
	assert_int_equal(memop_place(va, XENMAPSPACE_shared_info, 0, (GT >> 12) + 1), -XEN_EINVAL);
	assert_int_equal(memop_place(va, 2, 0, GT >> 12), -XEN_EINVAL);   /* XENMAPSPACE_gmfn: not offered */
	/* remove_from_physmap: the frame leaves the guest but stays in the table; RAM goes like a balloon page */
	assert_int_equal(memop_remove(va, (GT >> 12) + 1), 0);
	assert_int_equal(gmem_read(A, mk_gpa(GT + 0x1000), &b, 1), -EFAULT);
	assert_int_equal(query(va, DOMID_SELF).nr, 3);                 /* frame 2 was made before the refusal (Xen's order) */
	assert_int_equal(memop_remove(va, (GT >> 12) + 1), -XEN_EINVAL);  /* nothing there now */
	uint64_t before = A->nr_removed;
	assert_int_equal(memop_remove(va, MINE >> 12), 0);
	assert_int_equal(A->nr_removed, before + 1);
	assert_int_equal(memop_remove(va, SHINFO >> 12), 0);
	assert_false(A->hc.xen.shinfo_mapped);
}

/* ---- map and unmap ---- */

static void test_map_interdomain(void **state)
{
	a_grants(GTF_permit_access);
	struct map_op m = map_op(vb, AT_HOLE, GNTMAP_host_map, REF, 1);
	assert_int_equal(m.status, GNTST_okay);
	assert_int_equal(m.handle, 0);
	assert_int_equal(m.bus, 0);                                  /* no host address shown */
	assert_int_equal(flags_of(REF), GTF_permit_access | GTF_reading | GTF_writing);
	/* B's stage-2 map and its hypercalls both see A's page there */
	assert_int_equal(fake.page_map_log[fake.page_maps - 1].gpa, AT_HOLE);
	assert_true(fake.page_map_log[fake.page_maps - 1].writable);
	char s[9] = { 0 };
	assert_int_equal(gmem_read(B, mk_gpa(AT_HOLE), s, 8), 0);
	assert_string_equal(s, "granted!");
	assert_int_equal(gmem_write(B, mk_gpa(AT_HOLE + 8), "back", 4), 0);
	assert_memory_equal(hva(A, PAGE + 8), "back", 4);
	/* while mapped, A can neither balloon the page out nor get it back zeroed */
	assert_int_equal(gmem_page_remove(A, PAGE >> 12), -EBUSY);
	/* a second, read-only map of the same grant (over RAM this time) */
	struct map_op r = map_op(vb, AT_RAM, GNTMAP_host_map | GNTMAP_readonly, REF, 1);
	assert_int_equal(r.status, GNTST_okay);
	assert_int_equal(r.handle, 1);
	assert_int_equal(gmem_write(B, mk_gpa(AT_RAM), "x", 1), -EFAULT);
	assert_false(fake.page_map_log[fake.page_maps - 1].writable);
	/* unmapping the writable one leaves reading */
	assert_int_equal(unmap_st(vb, AT_HOLE, 0, 0), GNTST_okay);
	assert_int_equal(flags_of(REF), GTF_permit_access | GTF_reading);
	assert_int_equal(gmem_read(B, mk_gpa(AT_HOLE), s, 1), -EFAULT);
	assert_int_equal(unmap_st(vb, AT_RAM, 1, 0), GNTST_okay);
	assert_int_equal(flags_of(REF), GTF_permit_access);
	assert_int_equal(gmem_read(B, mk_gpa(AT_RAM), s, 1), -EFAULT);   /* the gfn is empty now (Xen) */
	assert_int_equal(unmap_st(vb, AT_RAM, 1, 0), GNTST_bad_handle);
	assert_int_equal(gmem_page_remove(A, PAGE >> 12), 0);
}

static void test_map_errors(void **state)
{
	a_grants(GTF_permit_access | GTF_readonly);
	assert_int_equal(map_st(AT_HOLE, 0, REF, 1), GNTST_bad_gntref);             /* no kind of map */
	assert_int_equal(map_st(AT_HOLE, GNTMAP_device_map | GNTMAP_host_map, REF, 1), GNTST_general_error);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map | GNTMAP_contains_pte, REF, 1), GNTST_general_error);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, DOMID_SELF), GNTST_bad_domain);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 5), GNTST_bad_domain);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, GNTTAB_ENTRIES_PER_FRAME, 1), GNTST_bad_gntref);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 1), GNTST_general_error);   /* read-only grant */
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map | GNTMAP_readonly | 0x20, REF, 1), GNTST_general_error);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF + 1, 1), GNTST_general_error);   /* GTF_invalid */
	grant(REF + 2, GTF_permit_access, 3, PAGE >> 12);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF + 2, 1), GNTST_general_error);   /* for dom 3 */
	grant(REF + 3, GTF_permit_access, 2, (RAM >> 12) + 4);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF + 3, 1), GNTST_bad_page);   /* not A's RAM */
	grant(REF + 4, GTF_permit_access, 2, GT >> 12);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF + 4, 1), GNTST_bad_page);   /* its table frame */
	assert_int_equal(flags_of(REF), GTF_permit_access | GTF_readonly);            /* nothing left set */
	/* a gfn that already has a grant mapped */
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map | GNTMAP_readonly, REF, 1), GNTST_okay);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map | GNTMAP_readonly, REF, 1), GNTST_general_error);
	/* the maptrack is bounded */
	for (unsigned h = 1; h < XEN_MAPTRACK_MAX; h++)
		assert_int_equal(map_st(AT_HOLE + h * 0x1000ull, GNTMAP_host_map | GNTMAP_readonly, REF, 1), GNTST_okay);
	assert_int_equal(map_st(AT_HOLE + 0x100000, GNTMAP_host_map | GNTMAP_readonly, REF, 1), GNTST_no_device_space);
	/* a revoked grant stays mapped where it is, but maps no more */
	grant(REF, 0, 2, PAGE >> 12);
	assert_int_equal(unmap_st(vb, AT_HOLE, 0, 0), GNTST_okay);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map | GNTMAP_readonly, REF, 1), GNTST_okay);   /* still pinned */
}

static void test_unmap_errors(void **state)
{
	a_grants(GTF_permit_access);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 1), GNTST_okay);
	assert_int_equal(unmap_st(vb, AT_HOLE, XEN_MAPTRACK_MAX, 0), GNTST_bad_handle);
	assert_int_equal(unmap_st(vb, AT_HOLE, 1, 0), GNTST_bad_handle);
	assert_int_equal(unmap_st(vb, AT_HOLE, 0, 0x1000), GNTST_general_error);
	assert_int_equal(unmap_st(vb, AT_RAM, 0, 0), GNTST_general_error);            /* not mapped there */
	assert_int_equal(unmap_st(va, AT_HOLE, 0, 0), GNTST_bad_handle);              /* B's handle, not A's */
	/* host_addr 0 names no mapping: nothing happens and the handle stays (Xen) */
	assert_int_equal(unmap_st(vb, 0, 0, 0), GNTST_okay);
	assert_int_equal(flags_of(REF), GTF_permit_access | GTF_reading | GTF_writing);
	assert_int_equal(unmap_st(vb, AT_HOLE | 0x123, 0, 0), GNTST_okay);            /* the page's address */
	assert_int_equal(flags_of(REF), GTF_permit_access);
}

/* A frame's gfn: map_grant_ref onto B's own grant-table frame fails (map_at: -EBUSY), the frame stays. */
static void test_map_onto_own_table_frame(void **state)
{
	a_grants(GTF_permit_access);
	assert_int_equal(memop_place(vb, XENMAPSPACE_grant_table, 0, 0x60), 0);
	assert_int_equal(gmem_write(B, mk_gpa(0x60000), "B's tbl", 8), 0);
	unsigned maps = fake.page_maps;
	assert_int_equal(map_st(0x60000, GNTMAP_host_map, REF, 1), GNTST_general_error);
	assert_int_equal(map_st(0x60000, GNTMAP_host_map | GNTMAP_readonly, REF, 1), GNTST_general_error);
	assert_int_equal(fake.page_maps, maps);
	assert_int_equal(flags_of(REF), GTF_permit_access);                       /* no pin left behind */
	char t[8];
	assert_int_equal(gmem_read(B, mk_gpa(0x60000), t, 8), 0);
	assert_memory_equal(t, "B's tbl", 8);
}

/* A grant-table frame placed where a grant is mapped: -EBUSY, the map stays (row 4.10). */
static void test_frame_over_mapped_grant(void **state)
{
	a_grants(GTF_permit_access);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 1), GNTST_okay);
	assert_int_equal(map_st(AT_RAM, GNTMAP_host_map | GNTMAP_readonly, REF, 1), GNTST_okay);
	unsigned maps = fake.page_maps;
	assert_int_equal(memop_place(vb, XENMAPSPACE_grant_table, 0, AT_HOLE >> 12), -XEN_EBUSY);
	assert_int_equal(memop_place(vb, XENMAPSPACE_grant_table, 0, AT_RAM >> 12), -XEN_EBUSY);
	assert_int_equal(fake.page_maps, maps);
	char got[9] = { 0 };
	assert_int_equal(gmem_read(B, mk_gpa(AT_HOLE), got, 8), 0);
	assert_string_equal(got, "granted!");
	assert_int_equal(gmem_read(B, mk_gpa(AT_RAM), got, 8), 0);
	assert_string_equal(got, "granted!");
	assert_int_equal(flags_of(REF), GTF_permit_access | GTF_reading | GTF_writing);
	assert_int_equal(unmap_st(vb, AT_HOLE, 0, 0), GNTST_okay);
	assert_int_equal(memop_place(vb, XENMAPSPACE_grant_table, 0, AT_HOLE >> 12), 0);   /* free again */
}

/* map_grant_ref at or above the guest's physical-address width (fake.phys_bits) fails, as does a frame there. */
static void test_gfn_above_phys_width(void **state)
{
	a_grants(GTF_permit_access);
	fake.phys_bits = 48;
	unsigned maps = fake.page_maps;
	assert_int_equal(map_st(1ull << 48, GNTMAP_host_map, REF, 1), GNTST_general_error);
	assert_int_equal(B->nr_foreign, 0);
	assert_int_equal(flags_of(REF), GTF_permit_access);
	assert_int_equal(memop_place(vb, XENMAPSPACE_grant_table, 0, 1ull << 36), -XEN_EINVAL);
	assert_int_equal(fake.page_maps, maps);
	/* the last page below the width is a gfn like any other */
	assert_int_equal(map_st((1ull << 48) - PAGE_SIZE, GNTMAP_host_map, REF, 1), GNTST_okay);
	assert_int_equal(memop_place(vb, XENMAPSPACE_grant_table, 0, (1ull << 36) - 2), 0);
	assert_int_equal(fake.page_maps, maps + 2);
}

/*
 * add_to_physmap(grant_table) with a gpfn whose address does not fit 64
 * bits (>= 2^52): -EINVAL, as map_shared_info answers; nothing is mapped
 * (gfn << 12 would wrap onto guest RAM, here gpfn 5).
 */
static void test_frame_gpfn_without_address(void **state)
{
	unsigned maps = fake.page_maps;
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 0, (1ull << 52) | 5), -XEN_EINVAL);
	/* not "placed there already" (an unplaced frame's gfn is ~0) */
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 1, UINT64_MAX), -XEN_EINVAL);
	assert_int_equal(memop_place(va, XENMAPSPACE_shared_info, 0, (1ull << 52) | 5), -XEN_EINVAL);
	assert_int_equal(fake.page_maps, maps);
	assert_int_equal(A->nr_removed, 0);
	assert_int_equal(A->nr_foreign, 0);
	uint8_t b;
	assert_int_equal(gmem_read(A, mk_gpa(0x5000), &b, 1), 0);                  /* RAM, as it was */
	assert_int_equal(b, 0x10);
	assert_int_equal(query(va, DOMID_SELF).nr, 2);            /* grown first, as Xen's gnttab_map_frame does */
}

/* ---- copy ---- */

static void test_copy(void **state)
{
	a_grants(GTF_permit_access);
	grant(REF + 1, GTF_permit_access | GTF_readonly, 2, PAGE >> 12);
	memcpy(hva(B, MINE), "from B's own page", 17);
	/* gref -> gmfn and gmfn -> gref */
	assert_int_equal(copy_st(REF, 1, 0, MINE >> 12, DOMID_SELF, 100, 8, GNTCOPY_source_gref), GNTST_okay);
	assert_memory_equal(hva(B, MINE + 100), "granted!", 8);
	assert_int_equal(copy_st(MINE >> 12, DOMID_SELF, 5, REF, 1, 4000, 12, GNTCOPY_dest_gref), GNTST_okay);
	assert_memory_equal(hva(A, PAGE + 4000), "B's own page", 12);
	assert_int_equal(flags_of(REF), GTF_permit_access);                        /* transient: gone */
	/* a read-only grant is a source, never a destination */
	assert_int_equal(copy_st(REF + 1, 1, 0, MINE >> 12, DOMID_SELF, 0, 4, GNTCOPY_source_gref), GNTST_okay);
	assert_int_equal(copy_st(MINE >> 12, DOMID_SELF, 0, REF + 1, 1, 0, 4, GNTCOPY_dest_gref), GNTST_general_error);
	/* a frame number side must be one's own, named DOMID_SELF (Xen, literally) */
	assert_int_equal(copy_st(MINE >> 12, 2, 0, REF, 1, 0, 4, GNTCOPY_dest_gref), GNTST_permission_denied);
	assert_int_equal(copy_st(PAGE >> 12, 1, 0, MINE >> 12, DOMID_SELF, 0, 4, 0), GNTST_permission_denied);
	assert_int_equal(copy_st(REF, 6, 0, MINE >> 12, DOMID_SELF, 0, 4, GNTCOPY_source_gref), GNTST_bad_domain);
	assert_int_equal(copy_st(9999, 1, 0, MINE >> 12, DOMID_SELF, 0, 4, GNTCOPY_source_gref), GNTST_bad_gntref);
	assert_int_equal(copy_st(REF, 1, 0, RAM >> 12, DOMID_SELF, 0, 4, GNTCOPY_source_gref), GNTST_bad_page);
	/* bounds are checked after both sides: a bad ref is what shows */
	assert_int_equal(copy_st(REF, 1, 4090, MINE >> 12, DOMID_SELF, 0, 8, GNTCOPY_source_gref), GNTST_bad_copy_arg);
	assert_int_equal(copy_st(REF, 1, 0, MINE >> 12, DOMID_SELF, 4095, 2, GNTCOPY_source_gref), GNTST_bad_copy_arg);
	assert_int_equal(copy_st(9999, 1, 4090, MINE >> 12, DOMID_SELF, 0, 8, GNTCOPY_source_gref), GNTST_bad_gntref);
	assert_int_equal(copy_st(REF, 1, 0, MINE >> 12, DOMID_SELF, 0, 0, GNTCOPY_source_gref), GNTST_okay);
	assert_memory_equal(hva(A, PAGE), "granted!", 8);
}

/* A batch of 100 copies: 64 done, then RIP stays with the list and count moved on (Xen's continuation). */
static void test_copy_batch_continued(void **state)
{
	bool lm = mode == MODE_64;
	size_t size = lm ? 40 : 24, st = 0;
	a_grants(GTF_permit_access);
	for (unsigned i = 0; i < GNTTAB_ENTRIES_PER_FRAME && i < 100; i++)
		hva(A, PAGE)[i] = (uint8_t)i;
	for (unsigned i = 0; i < 100; i++)
		st = put_copy(B, LIST + i * size, REF, 1, (uint16_t)i, MINE >> 12, DOMID_SELF, (uint16_t)(200 + i), 1,
		              GNTCOPY_source_gref);
	gnt(vb, GNTTABOP_copy, LIST, 100);
	assert_int_equal(vb->regs.rip, RIP0);
	assert_int_equal(vb->regs.gpr[lm ? X86_RSI : X86_RCX], LIST + 64 * size);
	assert_int_equal(vb->regs.gpr[X86_RDX], 36);
	assert_int_equal(hva(B, MINE + 263)[0], 63);
	assert_int_equal(hva(B, MINE + 264)[0], 0x11);                             /* not yet */
	assert_int_equal(hc_regs(vb), 0);                                           /* the guest runs it again */
	assert_int_equal(vb->regs.rip, RIP0 + ILEN);
	for (unsigned i = 0; i < 100; i++) {
		int16_t s;
		memcpy(&s, hva(B, LIST + i * size + st), 2);
		assert_int_equal(s, GNTST_okay);
		assert_int_equal(hva(B, MINE + 200 + i)[0], i);
	}
	/* a fault ends a batch with -EFAULT, what came before done */
	put_copy(B, RAM - size, REF, 1, 0, MINE >> 12, DOMID_SELF, 0, 1, GNTCOPY_source_gref);
	assert_int_equal(gnt(vb, GNTTABOP_copy, RAM - size, 2), -XEN_EFAULT);
	assert_int_equal(gnt(vb, GNTTABOP_copy, LIST, 0), 0);
}

/* A copy within one page (A's grant to itself onto the same frame), ranges overlapping: memmove's result. */
static void test_copy_overlapping(void **state)
{
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 0, GT >> 12), 0);
	grant(REF, GTF_permit_access, 1, PAGE >> 12);
	for (unsigned i = 0; i < 20; i++)
		hva(A, PAGE)[i] = (uint8_t)i;
	assert_int_equal(copy_st_by(va, REF, 1, 0, PAGE >> 12, DOMID_SELF, 4, 16, GNTCOPY_source_gref), GNTST_okay);
	for (unsigned i = 0; i < 20; i++)
		if (hva(A, PAGE)[i] != (i < 4 ? i : i - 4))
			fail_fmt("byte %u is %u", i, hva(A, PAGE)[i]);
	/* and backwards */
	assert_int_equal(copy_st_by(va, PAGE >> 12, DOMID_SELF, 4, REF, 1, 2, 16, GNTCOPY_dest_gref), GNTST_okay);
	static const uint8_t back[20] = { 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 14, 15 };
	assert_memory_equal(hva(A, PAGE), back, 20);
}

/* ---- the rest of grant_table_op ---- */

static void test_ops_refused(void **state)
{
	static const uint32_t nosys[] = { 3, 4, 7, 9, 12, 13, GNTTABOP_map_grant_ref | 1 << 12 };
	for (size_t i = 0; i < ARRAY_SIZE(nosys); i++)
		assert_int_equal(gnt(va, nosys[i], BUF, 1), -XEN_ENOSYS);
	assert_int_equal(gnt(va, GNTTABOP_map_grant_ref, BUF, 0xffffffff), -XEN_EINVAL);   /* (int)count < 0 */
	assert_int_equal(gnt(va, (1ull << 32) | GNTTABOP_query_size, BUF, 1), 0);        /* cmd is 32 bits */
	/* set_version: 1 is what there is, 2 is not offered; the version in use always comes back */
	uint32_t ver = 2;
	memcpy(hva(A, BUF), &ver, 4);
	assert_int_equal(gnt(va, GNTTABOP_set_version, BUF, 0), -XEN_ENOSYS);
	assert_int_equal(*(uint32_t *)hva(A, BUF), 1);
	*(uint32_t *)hva(A, BUF) = 3;
	assert_int_equal(gnt(va, GNTTABOP_set_version, BUF, 1), -XEN_EINVAL);
	*(uint32_t *)hva(A, BUF) = 1;
	assert_int_equal(gnt(va, GNTTABOP_set_version, BUF, 1), 0);
	struct { uint16_t dom, pad; uint32_t version; } g = { DOMID_SELF, 0, 0 };
	memcpy(hva(A, BUF), &g, sizeof(g));
	assert_int_equal(gnt(va, GNTTABOP_get_version, BUF, 1), 0);
	assert_int_equal(*(uint32_t *)hva(A, BUF + 4), 1);
	g.dom = 2;
	memcpy(hva(A, BUF), &g, sizeof(g));
	assert_int_equal(gnt(va, GNTTABOP_get_version, BUF, 1), -XEN_EPERM);
	g.dom = 8;
	memcpy(hva(A, BUF), &g, sizeof(g));
	assert_int_equal(gnt(va, GNTTABOP_get_version, BUF, 1), -XEN_ESRCH);
}

static void test_swap(void **state)
{
	a_grants(GTF_permit_access);
	grant(REF + 1, GTF_permit_access | GTF_readonly, 7, 0x99);
	uint32_t s[3] = { REF, REF + 1, 1 };
	memcpy(hva(A, BUF), s, sizeof(s));
	assert_int_equal(gnt(va, GNTTABOP_swap_grant_ref, BUF, 1), 0);
	assert_int_equal(*(int16_t *)hva(A, BUF + 8), GNTST_okay);
	assert_int_equal(flags_of(REF), GTF_permit_access | GTF_readonly);
	assert_int_equal(flags_of(REF + 1), GTF_permit_access);
	/* a mapped entry stays put */
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF + 1, 1), GNTST_okay);
	memcpy(hva(A, BUF), s, sizeof(s));
	assert_int_equal(gnt(va, GNTTABOP_swap_grant_ref, BUF, 1), 0);
	assert_int_equal(*(int16_t *)hva(A, BUF + 8), -12);                          /* GNTST_eagain */
	s[1] = 100000;
	memcpy(hva(A, BUF), s, sizeof(s));
	assert_int_equal(gnt(va, GNTTABOP_swap_grant_ref, BUF, 1), 0);
	assert_int_equal(*(int16_t *)hva(A, BUF + 8), GNTST_bad_gntref);
}

/* swap_grant_ref of an entry with itself: GNTST_okay, nothing changes, pinned or not (Xen: ref_a == ref_b first). */
static void test_swap_with_itself(void **state)
{
	a_grants(GTF_permit_access);
	uint8_t before[8], after[8];
	assert_int_equal(gmem_read(A, mk_gpa(GT + REF * 8ull), before, 8), 0);
	uint32_t s[3] = { REF, REF, 1 };
	memcpy(hva(A, BUF), s, sizeof(s));
	assert_int_equal(gnt(va, GNTTABOP_swap_grant_ref, BUF, 1), 0);
	assert_int_equal(*(int16_t *)hva(A, BUF + 8), GNTST_okay);
	assert_int_equal(gmem_read(A, mk_gpa(GT + REF * 8ull), after, 8), 0);
	assert_memory_equal(before, after, 8);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 1), GNTST_okay);
	memcpy(hva(A, BUF), s, sizeof(s));
	assert_int_equal(gnt(va, GNTTABOP_swap_grant_ref, BUF, 1), 0);
	assert_int_equal(*(int16_t *)hva(A, BUF + 8), GNTST_okay);
	assert_int_equal(flags_of(REF), GTF_permit_access | GTF_reading | GTF_writing);
	s[1] = REF + 1;                                                            /* a real swap: pinned */
	memcpy(hva(A, BUF), s, sizeof(s));
	assert_int_equal(gnt(va, GNTTABOP_swap_grant_ref, BUF, 1), 0);
	assert_int_equal(*(int16_t *)hva(A, BUF + 8), -12);                        /* GNTST_eagain */
}

/*
 * The table cannot grow (no memory before its first use): placing a frame
 * -EINVAL (RAM stays), query_size 0 frames, setup_table
 * GNTST_general_error, and ops naming an entry GNTST_bad_gntref.
 */
static void test_table_cannot_grow(void **state)
{
	fake_pmm_exhaust();
	assert_int_equal(memop_place(va, XENMAPSPACE_grant_table, 0, GT >> 12), -XEN_EINVAL);
	assert_int_equal(A->nr_removed, 0);
	assert_int_equal(hva(A, GT)[0], 0x10);
	assert_int_equal(gmem_read(A, mk_gpa(GT), &(uint8_t){ 0 }, 1), 0);
	struct query q = query(va, DOMID_SELF);
	assert_int_equal(q.status, GNTST_okay);
	assert_int_equal(q.nr, 0);
	assert_int_equal(setup_table(DOMID_SELF, 1, LIST), GNTST_general_error);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 1), GNTST_bad_gntref);
	assert_int_equal(copy_st(REF, 1, 0, MINE >> 12, DOMID_SELF, 0, 4, GNTCOPY_source_gref), GNTST_bad_gntref);
	uint32_t s[3] = { REF, REF, 1 };
	memcpy(hva(A, BUF), s, sizeof(s));
	assert_int_equal(gnt(va, GNTTABOP_swap_grant_ref, BUF, 1), 0);
	assert_int_equal(*(int16_t *)hva(A, BUF + 8), GNTST_bad_gntref);
}

/* ---- interdomain event channels ---- */

static int64_t evtchn(struct vcpu *c, uint32_t cmd, void *s, size_t len)
{
	memcpy(hva(c->vm, BUF), s, len);
	int64_t r = hc(c, __HYPERVISOR_event_channel_op, cmd, BUF, 0);
	memcpy(s, hva(c->vm, BUF), len);
	return r;
}

static bool pending(struct vm *vm, unsigned port)
{
	return hva(vm, SHINFO + 0x800)[port / 8] >> (port % 8) & 1;
}

/*
 * map_grant_ref onto the gfn of the caller's shared_info: refused
 * (GNTST_general_error, as a grant-table frame there is -EBUSY), so event
 * bits and time are never written into the granter's page.
 */
static void test_map_over_shared_info(void **state)
{
	a_grants(GTF_permit_access);
	memset(hva(A, PAGE + 8), 0x77, PAGE_SIZE - 8);
	assert_int_equal(memop_place(vb, XENMAPSPACE_shared_info, 0, SHINFO >> 12), 0);
	unsigned maps = fake.page_maps;
	assert_int_equal(map_st(SHINFO, GNTMAP_host_map, REF, 1), GNTST_general_error);
	assert_int_equal(map_st(SHINFO | 0x123, GNTMAP_host_map | GNTMAP_readonly, REF, 1), GNTST_general_error);
	assert_int_equal(fake.page_maps, maps);
	assert_int_equal(B->nr_foreign, 0);
	assert_int_equal(flags_of(REF), GTF_permit_access);
	/* B's events still go into its own shared_info */
	uint32_t ipi[2] = { 0, 0 };
	assert_int_equal(evtchn(vb, EVTCHNOP_bind_ipi, ipi, 8), 0);
	uint32_t port = ipi[1];
	assert_int_equal(evtchn(vb, EVTCHNOP_send, &port, 4), 0);
	assert_true(pending(B, port));
	for (unsigned i = 8; i < PAGE_SIZE; i++)
		if (hva(A, PAGE)[i] != 0x77)
			fail_fmt("A's granted page written at 0x%x: 0x%x", i, hva(A, PAGE)[i]);
	/* the same grant maps anywhere else */
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 1), GNTST_okay);
}

static void test_interdomain_channel(void **state)
{
	assert_int_equal(memop_place(va, XENMAPSPACE_shared_info, 0, SHINFO >> 12), 0);
	assert_int_equal(memop_place(vb, XENMAPSPACE_shared_info, 0, SHINFO >> 12), 0);
	/* A offers a port to domain 2; B binds it */
	uint32_t au[2] = { DOMID_SELF | 2u << 16, 0 };
	assert_int_equal(evtchn(va, EVTCHNOP_alloc_unbound, au, 8), 0);
	uint32_t pa = au[1];
	uint32_t bi[3] = { 1, pa, 0 }, bi2[3] = { 1, pa, 0 };
	assert_int_equal(evtchn(vb, EVTCHNOP_bind_interdomain, bi, 12), 0);
	uint32_t pb = bi[2];
	assert_true(pending(B, pb));                                               /* Xen always raises it */
	assert_int_equal(evtchn(vb, EVTCHNOP_bind_interdomain, bi2, 12), -XEN_EINVAL);   /* bound already */
	uint32_t for3[2] = { DOMID_SELF | 3u << 16, 0 };
	assert_int_equal(evtchn(va, EVTCHNOP_alloc_unbound, for3, 8), 0);
	uint32_t not_b[3] = { 1, for3[1], 0 };
	assert_int_equal(evtchn(vb, EVTCHNOP_bind_interdomain, not_b, 12), -XEN_EINVAL);  /* offered to dom 3 */
	memset(hva(B, SHINFO + 0x800), 0, 8);
	uint32_t send = pb;
	assert_int_equal(evtchn(vb, EVTCHNOP_send, &send, 4), 0);
	assert_true(pending(A, pa) && !pending(B, pb));
	send = pa;
	assert_int_equal(evtchn(va, EVTCHNOP_send, &send, 4), 0);
	assert_true(pending(B, pb));
	struct { uint16_t dom, pad; uint32_t port, status, vcpu, u[2]; } st = { DOMID_SELF, 0, pa, 0, 0, { 0, 0 } };
	assert_int_equal(evtchn(va, EVTCHNOP_status, &st, sizeof(st)), 0);
	assert_int_equal(st.status, EVTCHNSTAT_interdomain);
	assert_int_equal(st.u[0], 2);
	assert_int_equal(st.u[1], pb);
	st.dom = 2;                                                                /* another's ports: not ours */
	assert_int_equal(evtchn(va, EVTCHNOP_status, &st, sizeof(st)), -XEN_EPERM);
	st.dom = 9;
	assert_int_equal(evtchn(va, EVTCHNOP_status, &st, sizeof(st)), -XEN_ESRCH);
	uint32_t other[2] = { 2 | 1u << 16, 0 };                                   /* a port in B's name */
	assert_int_equal(evtchn(va, EVTCHNOP_alloc_unbound, other, 8), -XEN_EPERM);
	uint32_t none[3] = { 9, 1, 0 };
	assert_int_equal(evtchn(va, EVTCHNOP_bind_interdomain, none, 12), -XEN_ESRCH);
	/* closing A's end leaves B's unbound, for domain 1 */
	uint32_t close = pa;
	assert_int_equal(evtchn(va, EVTCHNOP_close, &close, 4), 0);
	st = (typeof(st)){ DOMID_SELF, 0, pb, 0, 0, { 0, 0 } };
	assert_int_equal(evtchn(vb, EVTCHNOP_status, &st, sizeof(st)), 0);
	assert_int_equal(st.status, EVTCHNSTAT_unbound);
	assert_int_equal(st.u[0], 1);
	send = pb;
	assert_int_equal(evtchn(vb, EVTCHNOP_send, &send, 4), 0);                 /* dropped */
	/* A binds B's now-unbound port again, then A ends: B's end is unbound again */
	uint32_t again[3] = { 2, pb, 0 };
	assert_int_equal(evtchn(va, EVTCHNOP_bind_interdomain, again, 12), 0);
	vm_end(A, VM_END_EXIT, 0, "done");
	assert_int_equal(evtchn(vb, EVTCHNOP_status, &st, sizeof(st)), 0);
	assert_int_equal(st.status, EVTCHNSTAT_unbound);
	uint32_t dead[3] = { 1, again[2], 0 };
	assert_int_equal(evtchn(vb, EVTCHNOP_bind_interdomain, dead, 12), -XEN_ESRCH);   /* A is gone */
}

/* A domain that ends gives up its maps: the granter's flags clear, the gfn empties. */
static void test_end_releases_maps(void **state)
{
	a_grants(GTF_permit_access);
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 1), GNTST_okay);
	vm_end(B, VM_END_EXIT, 0, "done");
	assert_int_equal(flags_of(REF), GTF_permit_access);
	assert_int_equal(B->nr_foreign, 0);
	assert_int_equal(gmem_page_remove(A, PAGE >> 12), 0);
	/* and nobody maps from a domain that has ended */
	assert_int_equal(gnt(va, GNTTABOP_query_size, BUF, 1), 0);
	assert_int_equal(map_op(va, AT_HOLE, GNTMAP_host_map, REF, 2).status, GNTST_bad_domain);
}

/* A third domain maps an entry another grantee has pinned: refused until the pin goes. */
static void test_third_domain_and_pinned_entry(void **state)
{
	a_grants(GTF_permit_access);
	C = new_domain(2);                                                         /* domain 3 */
	struct vcpu *vc = C->vcpus[0];
	assert_int_equal(map_st(AT_HOLE, GNTMAP_host_map, REF, 1), GNTST_okay);
	grant(REF, GTF_permit_access, 3, PAGE >> 12);                              /* A regrants the entry to C */
	assert_int_equal(map_op(vc, AT_HOLE, GNTMAP_host_map, REF, 1).status, GNTST_general_error);
	assert_int_equal(map_op(vc, AT_RAM, GNTMAP_host_map | GNTMAP_readonly, REF, 1).status, GNTST_general_error);
	assert_int_equal(C->nr_foreign, 0);
	char got[9] = { 0 };
	assert_int_equal(gmem_read(B, mk_gpa(AT_HOLE), got, 8), 0);               /* B's map stays */
	assert_string_equal(got, "granted!");
	assert_int_equal(unmap_st(vb, AT_HOLE, 0, 0), GNTST_okay);
	assert_int_equal(map_op(vc, AT_HOLE, GNTMAP_host_map, REF, 1).status, GNTST_okay);
	assert_int_equal(gmem_read(C, mk_gpa(AT_HOLE), got, 8), 0);
	assert_string_equal(got, "granted!");
	assert_int_equal(map_st(AT_RAM, GNTMAP_host_map, REF, 1), GNTST_general_error);   /* now B is the third */
}

/* Handles are the domain's: one vCPU maps, another unmaps, the first's unmap finds no handle. */
static void test_unmap_from_another_vcpu(void **state)
{
	a_grants(GTF_permit_access);
	struct vcpu *vb1 = fake_vcpu_new(B);
	vb1->state = VCPU_RUNNABLE;
	struct map_op m = map_op(vb, AT_HOLE, GNTMAP_host_map, REF, 1);
	assert_int_equal(m.status, GNTST_okay);
	assert_int_equal(unmap_st(vb1, AT_HOLE, m.handle, 0), GNTST_okay);
	assert_int_equal(flags_of(REF), GTF_permit_access);
	assert_int_equal(unmap_st(vb, AT_HOLE, m.handle, 0), GNTST_bad_handle);
	assert_int_equal(B->nr_foreign, 0);
}

int main(void)
{
	static enum cpu_mode m64 = MODE_64, m32 = MODE_PROT32;
#define T(f) { #f, f, setup, teardown, &m64 }
#define T32(f) { #f "/32", f, setup, teardown, &m32 }
#define T2(f) T(f), T32(f)
	const struct CMUnitTest tests[] = {
		T(test_query_size), T2(test_setup_table), T2(test_frames_in_the_guest),
		T2(test_map_interdomain), T(test_map_errors), T(test_unmap_errors),
		T2(test_copy), T2(test_copy_batch_continued), T2(test_ops_refused), T(test_swap),
		T(test_interdomain_channel), T(test_end_releases_maps),
		T2(test_map_onto_own_table_frame), T2(test_frame_over_mapped_grant), T2(test_map_over_shared_info),
		T(test_gfn_above_phys_width), T(test_frame_gpfn_without_address), T2(test_copy_overlapping),
		T(test_swap_with_itself), T2(test_table_cannot_grow), T(test_third_domain_and_pinned_entry),
		T(test_unmap_from_another_vcpu),
	};
	return cmocka_run_group_tests_name("xen_grants", tests, NULL, NULL);
}
