/*
 * Xen grant tables, version 1, for HVM/PVH domains (grant_table_op;
 * xen/include/public/grant_table.h, the behaviour of xen/common/grant_table.c
 * and xen/arch/x86/hvm/grant_table.c, the HVM filter of
 * xen/arch/x86/hvm/hypercall.c).
 *
 * A domain's table is frames of hypervisor memory (512 eight-byte entries
 * each) that the guest places in its physical address space with
 * XENMEM_add_to_physmap(XENMAPSPACE_grant_table); it grants another domain
 * a page of its own by filling an entry. That domain maps the page into
 * its physical address space (map_grant_ref: the page replaces whatever
 * was at host_addr, and the gfn is empty after unmap_grant_ref) or copies
 * to and from it (copy). While a grant is mapped, the granter's entry
 * shows GTF_reading, and GTF_writing for a writable map, and its page
 * stays where it is (core/gmem.h).
 *
 * Deliberate differences from Xen, all unobservable by a well-behaved guest:
 * - A failed entry check in map_grant_ref gives GNTST_general_error; Xen's
 *   code gives +1 there (an operator-precedence slip in _set_status).
 * - dev_bus_addr comes back 0: Xen writes the machine address, and we
 *   never show a guest a host address.
 * - Mapping onto a gfn that already holds a grant map gives
 *   GNTST_general_error (Xen crashes the domain).
 * - Mapping onto the gfn where the caller's shared_info is gives
 *   GNTST_general_error (as placing a grant-table frame there gives
 *   -EBUSY): our shared_info is the guest's page at that gfn, and event
 *   bits and time would go into the granter's page. Xen keeps its own
 *   shared_info frame and lets the map hide it from the guest.
 * - A grant of one's own page maps an alias of it (Xen moves the page).
 * - Version 2 is not offered (set_version(2) is -ENOSYS, as Xen with
 *   gnttab=max-ver:1), nor is transfer.
 */
#define LOG_SUB_FILE LOG_SUB_XEN   /* its messages: loglevel=xen:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/pmm.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/xen/xen.h"
#include "hypercalls/xen/xen_abi.h"

#define GNT_BATCH 64                 /* map/unmap/copy/swap ops per entry before a continuation */

struct gnt_entry { uint16_t flags, domid; uint32_t frame; };

/* Grows the table to n frames (Xen gnttab_grow_table): 0, or -1 beyond the maximum or out of memory. */
static int grow(struct vm *vm, unsigned n)
{
	struct xen_gnttab *g = &vm->hc.xen.gnttab;
	if (n > XEN_GNTTAB_MAX_FRAMES)
		return -1;
	while (g->nr_frames < n) {
		hpa_t pa = pmm_alloc(1, PAGE_SIZE);            /* zeroed: every entry GTF_invalid */
		if (!pa)
			return -1;
		g->frame_hpa[g->nr_frames] = pa;
		g->frame_gfn[g->nr_frames] = XEN_NO_GFN;
		g->nr_frames++;
	}
	return 0;
}

/* The table's size in frames: one from the first use on, as a new Xen domain's. */
static unsigned nr_frames(struct vm *vm)
{
	grow(vm, 1);
	return vm->hc.xen.gnttab.nr_frames;
}

/* Entry `ref` of vm's table, NULL when out of range. */
static uint8_t *entry_at(struct vm *vm, uint32_t ref)
{
	if (ref >= nr_frames(vm) * GNTTAB_ENTRIES_PER_FRAME)
		return NULL;
	const struct xen_gnttab *g = &vm->hc.xen.gnttab;
	return (uint8_t *)arch_phys_to_virt(g->frame_hpa[ref / GNTTAB_ENTRIES_PER_FRAME]) +
	       (ref % GNTTAB_ENTRIES_PER_FRAME) * 8;
}

static struct gnt_entry entry_read(const uint8_t *e)
{
	struct gnt_entry ge;
	memcpy(&ge, e, sizeof(ge));
	return ge;
}

/* Whether entry ge grants `grantee` access (writable access unless ro). */
static bool grants(struct gnt_entry ge, const struct vm *grantee, bool ro)
{
	return (ge.flags & (GTF_type_mask | GTF_sub_page)) == GTF_permit_access &&
	       ge.domid == xen_domid(grantee) && (ro || !(ge.flags & GTF_readonly));
}

/* ---- who has what mapped ---- */

/* Every mapping of granter's entry `ref`, by any domain: how many, how many writable, and the first. */
static const struct xen_maptrack *pins(const struct vm *granter, uint32_t ref, unsigned *all, unsigned *rw,
                                       struct vm **mapper)
{
	const struct xen_maptrack *first = NULL;
	*all = *rw = 0;
	for (unsigned id = 0; id < VM_MAX_VMS; id++) {
		struct vm *m = vm_find(id);
		for (unsigned h = 0; m && hc_speaks(m, &xen_abi) && h < XEN_MAPTRACK_MAX; h++) {
			const struct xen_maptrack *t = &m->hc.xen.gnttab.map[h];
			if (!t->used || t->dom != xen_domid(granter) || t->ref != ref)
				continue;
			if (!first) {
				first = t;
				*mapper = m;
			}
			(*all)++;
			*rw += !t->readonly;
		}
	}
	return first;
}

/* GTF_reading while a map of the entry exists, GTF_writing while a writable one does (Xen's pins). */
static void update_flags(struct vm *granter, uint32_t ref)
{
	unsigned all, rw;
	struct vm *m;
	uint8_t *e = entry_at(granter, ref);
	if (!e)
		return;
	pins(granter, ref, &all, &rw, &m);
	uint16_t flags = entry_read(e).flags & (uint16_t)~(GTF_reading | GTF_writing);
	flags |= (all ? GTF_reading : 0) | (rw ? GTF_writing : 0);
	memcpy(e, &flags, 2);
}

/* The granting domain of a mapping, while it exists. */
static struct vm *granter_of(const struct xen_maptrack *t)
{
	return vm_find(t->dom - 1u);
}

/* Undoes a mapping: the gfn becomes empty; the granter's flags follow. */
static int16_t release(struct vm *vm, struct xen_maptrack *t)
{
	if (gmem_foreign_unmap(vm, t->gfn))
		return GNTST_general_error;
	t->used = false;
	struct vm *g = granter_of(t);
	if (g)
		update_flags(g, t->ref);
	return GNTST_okay;
}

/* ---- map, unmap, copy, swap: one op each ---- */

/* gnttab_map_grant_ref: host_addr 0, flags 8, ref 12, dom 16, status 18, handle 20, dev_bus_addr 24 (32 bytes) */
static int16_t map_one(struct vm *vm, uint8_t *op, bool lm UNUSED)
{
	uint64_t host_addr;
	uint32_t flags, ref;
	uint16_t dom;
	memcpy(&host_addr, op, 8);
	memcpy(&flags, op + 8, 4);
	memcpy(&ref, op + 12, 4);
	memcpy(&dom, op + 16, 2);
	if (!(flags & (GNTMAP_device_map | GNTMAP_host_map)))
		return GNTST_bad_gntref;                       /* sic: Xen's answer */
	if (flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte))
		return GNTST_general_error;                    /* PV-only kinds of mapping */
	/* by number only: DOMID_SELF is not accepted here (rcu_lock_domain_by_id) */
	struct vm *rd = dom == DOMID_SELF ? NULL : xen_domain(vm, dom);
	if (!rd)
		return GNTST_bad_domain;
	struct xen_maptrack *t = NULL;
	for (unsigned h = 0; h < XEN_MAPTRACK_MAX && !t; h++)
		if (!vm->hc.xen.gnttab.map[h].used)
			t = &vm->hc.xen.gnttab.map[h];
	if (!t)
		return GNTST_no_device_space;
	uint8_t *e = entry_at(rd, ref);
	if (!e)
		return GNTST_bad_gntref;
	bool ro = flags & GNTMAP_readonly;
	unsigned all, rw;
	struct vm *mapper = NULL;
	const struct xen_maptrack *pinned = pins(rd, ref, &all, &rw, &mapper);
	if (pinned && mapper != vm)
		return GNTST_general_error;                    /* in use by another grantee */
	/* the entry is checked when first mapped, and again for the first writable map */
	if ((!pinned || (!ro && !rw)) && !grants(entry_read(e), vm, ro))
		return GNTST_general_error;
	uint64_t frame = pinned ? pinned->frame : entry_read(e).frame;
	if (!gmem_page_is_ram(rd, frame))
		return GNTST_bad_page;
	if ((flags & ~(uint32_t)GNTMAP_readonly) != GNTMAP_host_map)
		return GNTST_general_error;                    /* can_fail, guest_avail bits: not for HVM */
	uint64_t gfn = host_addr >> PAGE_SHIFT;
	if (xen_shinfo_at(vm, gfn))
		return GNTST_general_error;                    /* not over our shared_info (see the top) */
	if (gmem_foreign_map(vm, gfn, rd, frame, !ro))
		return GNTST_general_error;
	*t = (struct xen_maptrack){ .used = true, .readonly = ro, .dom = (uint16_t)xen_domid(rd), .ref = ref,
	                            .gfn = gfn, .frame = frame };
	update_flags(rd, ref);
	uint32_t handle = (uint32_t)(t - vm->hc.xen.gnttab.map);
	uint64_t bus = 0;
	memcpy(op + 20, &handle, 4);
	memcpy(op + 24, &bus, 8);
	return GNTST_okay;
}

/* gnttab_unmap_grant_ref: host_addr 0, dev_bus_addr 8, handle 16, status 20 (24 bytes) */
static int16_t unmap_one(struct vm *vm, uint8_t *op, bool lm UNUSED)
{
	uint64_t host_addr, bus;
	uint32_t handle;
	memcpy(&host_addr, op, 8);
	memcpy(&bus, op + 8, 8);
	memcpy(&handle, op + 16, 4);
	if (handle >= XEN_MAPTRACK_MAX || !vm->hc.xen.gnttab.map[handle].used)
		return GNTST_bad_handle;
	struct xen_maptrack *t = &vm->hc.xen.gnttab.map[handle];
	if (bus)
		return GNTST_general_error;                    /* we never gave one out */
	if (!host_addr)
		return GNTST_okay;                             /* Xen: no host mapping named, so it stays */
	if (host_addr >> PAGE_SHIFT != t->gfn)
		return GNTST_general_error;                    /* not where this grant is mapped */
	return release(vm, t);
}

/*
 * gnttab_copy: source and dest { union { ref; gmfn } u; domid_t domid; uint16_t offset; }
 * (64-bit: 16 bytes, u 8 bytes; 32-bit: 8, u 4), then len, flags, status.
 */
struct copy_side { uint64_t u; uint16_t domid, offset; bool gref; struct vm *d; uint64_t gfn; };

static void copy_parse(const uint8_t *p, bool lm, struct copy_side *s)
{
	s->u = 0;
	memcpy(&s->u, p, lm ? 8 : 4);
	memcpy(&s->domid, p + (lm ? 8 : 4), 2);
	memcpy(&s->offset, p + (lm ? 10 : 6), 2);
}

/* A side's domain: a frame number must be the caller's own, named DOMID_SELF (Xen, literally). */
static int16_t copy_domain(struct vm *vm, struct copy_side *s)
{
	if (!s->gref)
		return s->domid == DOMID_SELF ? (s->d = vm, GNTST_okay) : GNTST_permission_denied;
	s->d = xen_domain(vm, s->domid);
	return s->d ? GNTST_okay : GNTST_bad_domain;
}

/* A side's page: a grant to the caller (writable for the destination), or the caller's own RAM. */
static int16_t copy_claim(struct vm *vm, struct copy_side *s, bool dest)
{
	s->gfn = s->u;
	if (s->gref) {
		const uint8_t *e = entry_at(s->d, (uint32_t)s->u);
		if (!e)
			return GNTST_bad_gntref;
		struct gnt_entry ge = entry_read(e);
		if ((ge.flags & GTF_type_mask) != GTF_permit_access || ge.domid != xen_domid(vm) ||
		    (dest && (ge.flags & GTF_readonly)))
			return GNTST_general_error;
		s->gfn = ge.frame;
	}
	return gmem_page_is_ram(s->d, s->gfn) ? GNTST_okay : GNTST_bad_page;
}

static int16_t copy_one(struct vm *vm, uint8_t *op, bool lm)
{
	static uint8_t buf[PAGE_SIZE];                     /* one pCPU: one call at a time */
	struct copy_side src, dst;
	uint16_t len, flags;
	copy_parse(op, lm, &src);
	copy_parse(op + (lm ? 16 : 8), lm, &dst);
	memcpy(&len, op + (lm ? 32 : 16), 2);
	memcpy(&flags, op + (lm ? 34 : 18), 2);
	src.gref = flags & GNTCOPY_source_gref;
	dst.gref = flags & GNTCOPY_dest_gref;
	int16_t st;
	if ((st = copy_domain(vm, &src)) || (st = copy_domain(vm, &dst)) ||
	    (st = copy_claim(vm, &src, false)) || (st = copy_claim(vm, &dst, true)))
		return st;
	/* bounds only once both sides are claimed, as Xen checks them */
	if (src.offset + len > PAGE_SIZE || dst.offset + len > PAGE_SIZE)
		return GNTST_bad_copy_arg;
	if (gmem_read(src.d, mk_gpa((src.gfn << PAGE_SHIFT) + src.offset), buf, len) ||
	    gmem_write(dst.d, mk_gpa((dst.gfn << PAGE_SHIFT) + dst.offset), buf, len))
		return GNTST_general_error;
	return GNTST_okay;
}

/* gnttab_swap_grant_ref { grant_ref_t ref_a, ref_b; int16_t status; } (12 bytes): two entries of one's own table. */
static int16_t swap_one(struct vm *vm, uint8_t *op, bool lm UNUSED)
{
	uint32_t a, b;
	unsigned all_a, all_b, rw;
	struct vm *m;
	memcpy(&a, op, 4);
	memcpy(&b, op + 4, 4);
	uint8_t *ea = entry_at(vm, a), *eb = entry_at(vm, b);
	if (!ea || !eb)
		return GNTST_bad_gntref;
	if (a == b)
		return GNTST_okay;
	pins(vm, a, &all_a, &rw, &m);
	pins(vm, b, &all_b, &rw, &m);
	if (all_a || all_b)
		return GNTST_eagain;
	uint8_t tmp[8];
	memcpy(tmp, ea, 8);
	memcpy(ea, eb, 8);
	memcpy(eb, tmp, 8);
	return GNTST_okay;
}

/*
 * A batch of `count` ops at uop: each read, done, its status (or, for map,
 * the whole op) written back. After GNT_BATCH ops the call is continued
 * with uop advanced and count reduced, as Xen's hypercall_create_continuation
 * leaves them; a fault ends it with -EFAULT, the ops before it done.
 */
struct gnt_batch {
	int16_t (*one)(struct vm *vm, uint8_t *op, bool lm);
	uint8_t size64, size32, status64, status32;
	bool whole;                    /* write the whole op back, not only its status */
};

static int64_t batch(struct vcpu *v, const struct hc_args *a, const struct gnt_batch *b)
{
	uint64_t uop = a->arg[1];
	uint32_t count = (uint32_t)a->arg[2];
	size_t size = a->long_mode ? b->size64 : b->size32, at = a->long_mode ? b->status64 : b->status32;
	for (uint32_t i = 0; i < count; i++) {
		uint8_t op[40];
		uint64_t gpa = uop + (uint64_t)i * size;
		if (i == GNT_BATCH) {
			hc_continue(v, 1, gpa);
			hc_continue(v, 2, count - i);
			return 0;
		}
		if (xen_copy_in(v, gpa, op, size))
			return -XEN_EFAULT;
		int16_t st = b->one(v->vm, op, a->long_mode);
		memcpy(op + at, &st, 2);
		if (b->whole ? xen_copy_out(v, gpa, op, size) : xen_copy_out(v, gpa + at, op + at, 2))
			return -XEN_EFAULT;
	}
	return 0;
}

/* ---- the table itself ---- */

/* A status for an op naming domain `dom`: its own is fine, another existing one is not ours to see. */
static int16_t table_domain(struct vm *vm, uint16_t dom)
{
	if (xen_is_self(vm, dom))
		return GNTST_okay;
	return xen_domain(vm, dom) ? GNTST_permission_denied : GNTST_bad_domain;
}

/* gnttab_query_size { domid_t dom; uint32_t nr_frames, max_nr_frames; int16_t status; } (16 bytes) */
static int64_t query_size(struct vcpu *v, uint64_t gpa)
{
	struct { uint16_t dom, pad; uint32_t nr, max; int16_t status; uint16_t pad2; } q;
	if (xen_copy_in(v, gpa, &q, sizeof(q)))
		return -XEN_EFAULT;
	q.status = table_domain(v->vm, q.dom);
	if (!q.status) {
		q.nr = nr_frames(v->vm);
		q.max = XEN_GNTTAB_MAX_FRAMES;
	}
	return xen_copy_out(v, gpa, &q, sizeof(q));
}

/*
 * gnttab_setup_table { domid_t dom; uint32_t nr_frames; int16_t status; handle frame_list; }
 * (64-bit: 24 bytes, list at 16 of 8-byte xen_pfn_t; 32-bit: 16, list at 12 of 4-byte ones).
 * Grows the table to nr_frames; each frame's entry is the gfn it is placed
 * at, ~0 where it is nowhere (for a 32-bit caller GNTST_address_too_big,
 * as Xen's compat code says for a frame that does not fit).
 */
static int64_t setup_table(struct vcpu *v, const struct hc_args *a)
{
	bool lm = a->long_mode;
	uint8_t s[24];
	uint16_t dom;
	uint32_t nr;
	uint64_t list = 0;
	if (xen_copy_in(v, a->arg[1], s, lm ? 24 : 16))
		return -XEN_EFAULT;
	memcpy(&dom, s, 2);
	memcpy(&nr, s + 4, 4);
	memcpy(&list, s + (lm ? 16 : 12), lm ? 8 : 4);
	struct xen_gnttab *g = &v->vm->hc.xen.gnttab;
	int16_t st = table_domain(v->vm, dom);
	if (!st && grow(v->vm, MAX(nr, 1u)))
		st = GNTST_general_error;                      /* more than max_nr_frames */
	for (uint32_t i = 0; !st && i < nr; i++) {
		uint64_t gfn = g->frame_gfn[i] == XEN_NO_GFN ? UINT64_MAX : g->frame_gfn[i];
		if (!lm && gfn >> 32) {
			st = GNTST_address_too_big;
			break;
		}
		if (xen_copy_out(v, list + (uint64_t)i * (lm ? 8 : 4), &gfn, lm ? 8 : 4))
			st = GNTST_bad_virt_addr;                  /* and on, as Xen does */
	}
	return xen_copy_out(v, a->arg[1] + 8, &st, 2);
}

/* gnttab_set_version { uint32_t version; }: 1 is what we have; the answer is always the version in use. */
static int64_t set_version(struct vcpu *v, uint64_t gpa)
{
	uint32_t ver;
	if (xen_copy_in(v, gpa, &ver, 4))
		return -XEN_EFAULT;
	int64_t r = ver == 1 ? 0 : ver == 2 ? -XEN_ENOSYS : -XEN_EINVAL;
	ver = 1;
	return xen_copy_out(v, gpa, &ver, 4) ? -XEN_EFAULT : r;
}

/* gnttab_get_version { domid_t dom; uint16_t pad; uint32_t version; } */
static int64_t get_version(struct vcpu *v, uint64_t gpa)
{
	uint16_t dom;
	uint32_t ver = 1;
	if (xen_copy_in(v, gpa, &dom, 2))
		return -XEN_EFAULT;
	if (!xen_is_self(v->vm, dom))
		return xen_not_self(v->vm, dom);
	return xen_copy_out(v, gpa + 4, &ver, 4);
}

/*
 * grant_table_op(cmd, uop, count). An HVM domain gets -ENOSYS for what
 * Xen's HVM filter refuses, which compares the whole cmd: continuation
 * bits included.
 */
int64_t xen_grant_table_op(struct vcpu *v, const struct hc_args *a)
{
	static const struct gnt_batch map = { map_one, 32, 32, 18, 18, true };
	static const struct gnt_batch unmap = { unmap_one, 24, 24, 20, 20, false };
	static const struct gnt_batch copy = { copy_one, 40, 24, 36, 20, false };
	static const struct gnt_batch swap = { swap_one, 12, 12, 8, 8, false };
	uint32_t cmd = (uint32_t)a->arg[0];
	int32_t count = (int32_t)a->arg[2];
	switch (cmd) {
	case GNTTABOP_map_grant_ref: case GNTTABOP_unmap_grant_ref: case GNTTABOP_setup_table:
	case GNTTABOP_copy: case GNTTABOP_query_size: case GNTTABOP_set_version:
	case GNTTABOP_get_version: case GNTTABOP_swap_grant_ref:
		break;
	default:
		return -XEN_ENOSYS;
	}
	if (count < 0)
		return -XEN_EINVAL;
	switch (cmd) {
	case GNTTABOP_map_grant_ref:
		return batch(v, a, &map);
	case GNTTABOP_unmap_grant_ref:
		return batch(v, a, &unmap);
	case GNTTABOP_copy:
		return batch(v, a, &copy);
	case GNTTABOP_swap_grant_ref:
		return batch(v, a, &swap);
	case GNTTABOP_setup_table:
		if (!a->long_mode && count == 0)
			return 0;                                  /* compat: nothing to do */
		return count == 1 ? setup_table(v, a) : -XEN_EINVAL;
	case GNTTABOP_query_size:
		return count == 1 ? query_size(v, a->arg[1]) : -XEN_EINVAL;
	case GNTTABOP_set_version:
		return set_version(v, a->arg[1]);
	default:
		return get_version(v, a->arg[1]);
	}
}

/* ---- the table's frames in the guest (memory_op) ---- */

/* The frame placed at gfn, or -1. */
static int frame_at(const struct vm *vm, uint64_t gfn)
{
	const struct xen_gnttab *g = &vm->hc.xen.gnttab;
	for (unsigned i = 0; i < g->nr_frames; i++)
		if (g->frame_gfn[i] == gfn)
			return (int)i;
	return -1;
}

/* Takes frame i out of the guest: its gfn is left empty (Xen). */
static void unplace(struct vm *vm, unsigned i)
{
	struct xen_gnttab *g = &vm->hc.xen.gnttab;
	gmem_foreign_unmap(vm, g->frame_gfn[i]);
	g->frame_gfn[i] = XEN_NO_GFN;
}

/*
 * XENMAPSPACE_grant_table: frame idx goes to gpfn, growing the table up to
 * it (Xen gnttab_map_frame); it leaves where it was, and RAM at gpfn is
 * given up. With a v1 table, XENMAPIDX_grant_table_status is just a large
 * idx. shared_info's page cannot be covered (-EBUSY: Xen would unhook it);
 * a gpfn without an address (xen_gfn_fits) is refused once the table has
 * grown, as Xen's p2m refuses it after gnttab_map_frame.
 */
int64_t xen_gnttab_place(struct vcpu *v, uint64_t idx, uint64_t gpfn)
{
	struct vm *vm = v->vm;
	struct xen_gnttab *g = &vm->hc.xen.gnttab;
	if (idx >= XEN_GNTTAB_MAX_FRAMES || grow(vm, (unsigned)idx + 1) || !xen_gfn_fits(gpfn))
		return -XEN_EINVAL;
	if (g->frame_gfn[idx] == gpfn)
		return 0;
	if (xen_shinfo_at(vm, gpfn))
		return -XEN_EBUSY;
	int other = frame_at(vm, gpfn);
	if (other >= 0)
		unplace(vm, (unsigned)other);                  /* another frame there: unhooked */
	else if (gmem_page_is_foreign(vm, gpfn))
		return -XEN_EBUSY;                             /* a grant mapped there */
	uint64_t old = g->frame_gfn[idx];
	int r = gmem_host_page_map(vm, gpfn, g->frame_hpa[idx], true);
	if (r)
		return r == -ENOMEM ? -XEN_ENOMEM : -XEN_EINVAL;
	if (old != XEN_NO_GFN)
		gmem_foreign_unmap(vm, old);
	g->frame_gfn[idx] = gpfn;
	return 0;
}

/* XENMEM_remove_from_physmap on a grant frame's gfn: the frame leaves the guest; 1 if gpfn was one. */
bool xen_gnttab_unplace(struct vm *vm, uint64_t gpfn)
{
	int i = frame_at(vm, gpfn);
	if (i < 0)
		return false;
	unplace(vm, (unsigned)i);
	return true;
}

/* The VM ended: its maps of other domains' grants go (Xen gnttab_release_mappings). */
void xen_gnttab_vm_ended(struct vm *vm)
{
	for (unsigned h = 0; h < XEN_MAPTRACK_MAX; h++)
		if (vm->hc.xen.gnttab.map[h].used)
			release(vm, &vm->hc.xen.gnttab.map[h]);
}

void xen_gnttab_destroy(struct vm *vm)
{
	struct xen_gnttab *g = &vm->hc.xen.gnttab;
	for (unsigned i = 0; i < g->nr_frames; i++)
		pmm_free(g->frame_hpa[i], 1);
	g->nr_frames = 0;
}
