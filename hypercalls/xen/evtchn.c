/*
 * Xen event channels, 2-level ABI (xen/include/public/event_channel.h; the
 * behaviour of xen/common/event_channel.c and event_2l.c), their delivery
 * to HVM vCPUs, the vCPU timers that raise VIRQ_TIMER, and the scheduler
 * calls that wait for events (SCHEDOP_block, SCHEDOP_poll).
 *
 * Delivery: the port's bit in shared_info's evtchn_pending; unless its
 * evtchn_mask bit is set, the port's word in the notified vCPU's
 * evtchn_pending_sel; on the first pending word, its evtchn_upcall_pending
 * and an interrupt with the vCPU's upcall vector or the callback vector
 * (HVM_PARAM_CALLBACK_IRQ of type vector). Interdomain channels connect
 * ports of two VMs that speak Xen (or two of one: loopback); when a VM
 * ends, its ends close and the other ends go back to unbound, as when a
 * Xen domain is destroyed (evtchn_destroy).
 */
#define LOG_SUB_FILE LOG_SUB_XEN   /* its messages: loglevel=xen:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/sched.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/pvclock.h"
#include "hypercalls/xen/xen.h"
#include "hypercalls/xen/xen_abi.h"

#define XEN_POLL_MAX_PORTS 128                       /* sched.h: more is -EINVAL */

static bool port_valid(const struct vm *vm, uint32_t port)
{
	return port < xen_nr_ports(vm);
}

/* ---- delivery ---- */

/* The vector an upcall to `t` raises: its own, else the callback's if that is a vector; 0: none. */
static uint8_t upcall_vector(const struct vcpu *t)
{
	uint64_t via = t->vm->hc.xen.callback_irq;
	if (t->hc.xen.upcall_vector)
		return t->hc.xen.upcall_vector;
	if ((via >> HVM_PARAM_CALLBACK_TYPE_SHIFT) == HVM_PARAM_CALLBACK_TYPE_VECTOR)
		return (uint8_t)via;
	return 0;
}

bool xen_upcall_pending(const struct vcpu *v)
{
	uint64_t vi;
	uint8_t pending = 0;
	return xen_vcpu_info(v, &vi) && !gmem_read(v->vm, mk_gpa(vi), &pending, 1) && pending;
}

/* The vCPU has events: upcall_pending, and an interrupt on its 0 -> 1 edge; a blocked vCPU wakes. */
static void mark_events_pending(struct vcpu *t)
{
	uint64_t vi;
	if (!xen_vcpu_info(t, &vi))
		return;
	if (xen_gbit(t->vm, vi, 0, XEN_BIT_SET) == 0 && upcall_vector(t))
		arch_send_ipi(t, upcall_vector(t));            /* fixed, edge */
	if (t->hc.xen.blocked && t->state == VCPU_HALTED)
		vcpu_wake(t);
}

/* Port `port` is pending and not masked: its selector bit, then the upcall. */
static void notify(struct vcpu *t, unsigned port)
{
	uint64_t vi;
	if (xen_vcpu_info(t, &vi) &&
	    xen_gbit(t->vm, xen_pending_sel(t->vm, vi), port / xen_word_bits(t->vm), XEN_BIT_SET) == 0)
		mark_events_pending(t);
}

/*
 * Xen evtchn_2l_set_pending: a port that becomes pending reaches its vCPU
 * unless masked, and wakes every vCPU in SCHEDOP_poll even when masked
 * (evtchn_check_pollers: Linux's PV spinlocks poll a masked kick port).
 */
void xen_evtchn_fire(struct vm *vm, unsigned port)
{
	const struct xen_vm_state *x = &vm->hc.xen;
	if (!x->shinfo_mapped || !port_valid(vm, port))
		return;                                        /* no shared_info: nowhere to record it */
	if (xen_gbit(vm, xen_pending_base(vm), port, XEN_BIT_SET) != 0)
		return;                                        /* already pending (or unreadable) */
	if (xen_gbit(vm, xen_mask_base(vm), port, XEN_BIT_TEST) == 0)
		notify(vm->vcpus[x->evtchn[port].notify_vcpu], port);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *p = vm->vcpus[i];
		if (p->hc.xen.polling && p->state == VCPU_HALTED)
			vcpu_wake(p);
	}
}

void xen_virq_fire(struct vcpu *v, unsigned virq)
{
	uint16_t port = v->hc.xen.virq_port[virq];
	if (port)
		xen_evtchn_fire(v->vm, port);
}

void xen_evtchn_upcall_recheck(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpus[i];
		if (xen_upcall_pending(t) && upcall_vector(t))
			arch_send_ipi(t, upcall_vector(t));
	}
}

/* ---- event_channel_op ---- */

static int alloc_port(struct vm *vm)
{
	for (unsigned p = 1; p < xen_nr_ports(vm); p++)
		if (vm->hc.xen.evtchn[p].state == EVTCHNSTAT_closed)
			return (int)p;
	return -XEN_ENOSPC;
}

/* Reads the op's struct, runs `fn` on it, writes it back when fn asks (out > 0). */
static int64_t with_struct(struct vcpu *v, uint64_t gpa, void *buf, size_t len,
                           int64_t (*fn)(struct vcpu *v, void *buf))
{
	if (xen_copy_in(v, gpa, buf, len))
		return -XEN_EFAULT;
	int64_t r = fn(v, buf);
	if (r > 0)
		return xen_copy_out(v, gpa, buf, len);
	return r;
}

/* A new port: its number goes back to the caller (written by with_struct). */
static int64_t new_port(struct vm *vm, uint32_t *port_out, struct xen_evtchn ch)
{
	int p = alloc_port(vm);
	if (p < 0)
		return p;
	vm->hc.xen.evtchn[p] = ch;
	*port_out = (uint32_t)p;
	return 1;
}

/*
 * evtchn_alloc_unbound { domid_t dom, remote_dom; evtchn_port_t port; }:
 * a port in the caller's domain that `remote_dom` may bind. Xen does not
 * check that the remote domain exists (evtchn_alloc_unbound).
 */
static int64_t op_alloc_unbound(struct vcpu *v, void *buf)
{
	struct { uint16_t dom, remote_dom; uint32_t port; } *a = buf;
	if (!xen_is_self(v->vm, a->dom))
		return xen_not_self(v->vm, a->dom);
	uint16_t remote = a->remote_dom == DOMID_SELF ? (uint16_t)xen_domid(v->vm) : a->remote_dom;
	return new_port(v->vm, &a->port, (struct xen_evtchn){ .state = EVTCHNSTAT_unbound, .remote_dom = remote });
}

/* The VM at the other end of an interdomain channel, NULL once destroyed. */
static struct vm *peer_vm(struct vm *vm, const struct xen_evtchn *ch)
{
	return ch->remote_dom == xen_domid(vm) ? vm : vm_find(ch->remote_dom - 1u);
}

/*
 * evtchn_bind_interdomain { domid_t remote_dom; evtchn_port_t remote_port, local_port; }:
 * connects a new local port to the remote domain's port, which must be
 * unbound and offered to the caller's domain. Xen's order of checks:
 * the domain (-ESRCH), a free local port (-ENOSPC), the remote port (-EINVAL).
 */
static int64_t op_bind_interdomain(struct vcpu *v, void *buf)
{
	struct { uint16_t remote_dom, pad; uint32_t remote_port, local_port; } *a = buf;
	struct vm *ld = v->vm, *rd = xen_domain(ld, a->remote_dom);
	if (!rd)
		return -XEN_ESRCH;
	int lport = alloc_port(ld);
	if (lport < 0)
		return lport;
	struct xen_evtchn *remote = port_valid(rd, a->remote_port) ? &rd->hc.xen.evtchn[a->remote_port] : NULL;
	if (!remote || remote->state != EVTCHNSTAT_unbound || remote->remote_dom != xen_domid(ld))
		return -XEN_EINVAL;
	/* notifications go to vCPU 0 until bind_vcpu moves them, as in Xen */
	ld->hc.xen.evtchn[lport] = (struct xen_evtchn){ .state = EVTCHNSTAT_interdomain,
		.remote_dom = (uint16_t)xen_domid(rd), .peer = (uint16_t)a->remote_port };
	remote->state = EVTCHNSTAT_interdomain;
	remote->remote_dom = (uint16_t)xen_domid(ld);
	remote->peer = (uint16_t)lport;
	a->local_port = (uint32_t)lport;
	/* a notification sent to the unbound end may be lost: Xen always raises the new port */
	xen_evtchn_fire(ld, (unsigned)lport);
	return 1;
}

/* VIRQs that are per vCPU (Xen virq_is_global): the timer, debug, xenoprof and xenpmu; the rest are global. */
static bool virq_is_global(uint32_t virq)
{
	return virq != VIRQ_TIMER && virq != VIRQ_DEBUG && virq != VIRQ_XENOPROF && virq != VIRQ_XENPMU;
}

/* evtchn_bind_virq { uint32_t virq, vcpu; evtchn_port_t port; }: a global VIRQ binds on vCPU 0 only. */
static int64_t op_bind_virq(struct vcpu *v, void *buf)
{
	struct { uint32_t virq, vcpu, port; } *a = buf;
	if (a->virq >= XEN_NR_VIRQS || (virq_is_global(a->virq) && a->vcpu != 0))
		return -XEN_EINVAL;
	if (a->vcpu >= v->vm->nr_vcpus)
		return -XEN_ENOENT;
	struct vcpu *t = v->vm->vcpus[a->vcpu];
	if (t->hc.xen.virq_port[a->virq])
		return -XEN_EEXIST;
	int64_t r = new_port(v->vm, &a->port, (struct xen_evtchn){
		.state = EVTCHNSTAT_virq, .virq = (uint8_t)a->virq, .notify_vcpu = (uint16_t)a->vcpu });
	if (r > 0)
		t->hc.xen.virq_port[a->virq] = (uint16_t)a->port;
	return r;
}

/* evtchn_bind_ipi { uint32_t vcpu; evtchn_port_t port; } */
static int64_t op_bind_ipi(struct vcpu *v, void *buf)
{
	struct { uint32_t vcpu, port; } *a = buf;
	if (a->vcpu >= v->vm->nr_vcpus)
		return -XEN_ENOENT;
	return new_port(v->vm, &a->port, (struct xen_evtchn){ .state = EVTCHNSTAT_ipi, .notify_vcpu = (uint16_t)a->vcpu });
}

/* Closes `port` (Xen evtchn_close): a VIRQ is unbound, an interdomain peer goes back to unbound. */
static int64_t close_port(struct vm *vm, uint32_t port)
{
	struct xen_vm_state *x = &vm->hc.xen;
	if (!port_valid(vm, port) || x->evtchn[port].state == EVTCHNSTAT_closed)
		return -XEN_EINVAL;
	struct xen_evtchn *ch = &x->evtchn[port];
	if (ch->state == EVTCHNSTAT_virq)
		vm->vcpus[ch->notify_vcpu]->hc.xen.virq_port[ch->virq] = 0;
	struct vm *pv = ch->state == EVTCHNSTAT_interdomain ? peer_vm(vm, ch) : NULL;
	if (pv) {
		pv->hc.xen.evtchn[ch->peer].state = EVTCHNSTAT_unbound;
		pv->hc.xen.evtchn[ch->peer].remote_dom = (uint16_t)xen_domid(vm);
	}
	*ch = (struct xen_evtchn){ 0 };
	if (x->shinfo_mapped)
		xen_gbit(vm, xen_pending_base(vm), port, XEN_BIT_CLEAR);
	return 0;
}

static int64_t op_close(struct vcpu *v, void *buf)
{
	return close_port(v->vm, *(uint32_t *)buf);
}

/* evtchn_send { evtchn_port_t port; }: an unbound port drops it silently (Xen). */
static int64_t op_send(struct vcpu *v, void *buf)
{
	uint32_t port = *(uint32_t *)buf;
	const struct xen_evtchn *ch = port_valid(v->vm, port) ? &v->vm->hc.xen.evtchn[port] : NULL;
	if (!ch)
		return -XEN_EINVAL;
	switch (ch->state) {
	case EVTCHNSTAT_interdomain: {
		struct vm *pv = peer_vm(v->vm, ch);
		if (pv && !vm_ended(pv))
			xen_evtchn_fire(pv, ch->peer);
		return 0;
	}
	case EVTCHNSTAT_ipi:
		xen_evtchn_fire(v->vm, port);
		return 0;
	case EVTCHNSTAT_unbound:
		return 0;
	}
	return -XEN_EINVAL;
}

/* evtchn_status { domid_t dom; evtchn_port_t port; uint32_t status, vcpu; union (8 bytes) u; } */
static int64_t op_status(struct vcpu *v, void *buf)
{
	struct { uint16_t dom, pad; uint32_t port, status, vcpu; uint32_t u[2]; } *a = buf;
	if (!xen_is_self(v->vm, a->dom))
		return xen_not_self(v->vm, a->dom);
	if (!port_valid(v->vm, a->port))
		return -XEN_EINVAL;
	const struct xen_evtchn *ch = &v->vm->hc.xen.evtchn[a->port];
	a->status = ch->state;
	a->vcpu = ch->notify_vcpu;
	a->u[0] = a->u[1] = 0;
	if (ch->state == EVTCHNSTAT_unbound)
		a->u[0] = ch->remote_dom;
	else if (ch->state == EVTCHNSTAT_interdomain)
		a->u[0] = ch->remote_dom, a->u[1] = ch->peer;
	else if (ch->state == EVTCHNSTAT_virq)
		a->u[0] = ch->virq;
	return 1;
}

/* evtchn_bind_vcpu { evtchn_port_t port; uint32_t vcpu; }: IPIs and per-vCPU VIRQs stay where they are (Xen). */
static int64_t op_bind_vcpu(struct vcpu *v, void *buf)
{
	struct { uint32_t port, vcpu; } *a = buf;
	if (a->vcpu >= v->vm->nr_vcpus)
		return -XEN_ENOENT;
	if (!port_valid(v->vm, a->port))
		return -XEN_EINVAL;
	struct xen_evtchn *ch = &v->vm->hc.xen.evtchn[a->port];
	bool global_virq = ch->state == EVTCHNSTAT_virq && virq_is_global(ch->virq);
	if (ch->state != EVTCHNSTAT_unbound && ch->state != EVTCHNSTAT_interdomain && !global_virq)
		return -XEN_EINVAL;
	if (global_virq) {                               /* the binding moves with it */
		v->vm->vcpus[ch->notify_vcpu]->hc.xen.virq_port[ch->virq] = 0;
		v->vm->vcpus[a->vcpu]->hc.xen.virq_port[ch->virq] = (uint16_t)a->port;
	}
	ch->notify_vcpu = (uint16_t)a->vcpu;
	return 0;
}

/* evtchn_unmask { evtchn_port_t port; }: a port pending under its mask is delivered now (evtchn_2l_unmask). */
static int64_t op_unmask(struct vcpu *v, void *buf)
{
	uint32_t port = *(uint32_t *)buf;
	struct vm *vm = v->vm;
	if (!port_valid(vm, port))
		return -XEN_EINVAL;
	if (!vm->hc.xen.shinfo_mapped)
		return 0;
	if (xen_gbit(vm, xen_mask_base(vm), port, XEN_BIT_CLEAR) == 1 &&
	    xen_gbit(vm, xen_pending_base(vm), port, XEN_BIT_TEST) == 1)
		notify(vm->vcpus[vm->hc.xen.evtchn[port].notify_vcpu], port);
	return 0;
}

int64_t xen_event_channel_op(struct vcpu *v, const struct hc_args *a)
{
	static const struct { int64_t (*fn)(struct vcpu *v, void *buf); uint8_t len; } ops[] = {
		[EVTCHNOP_bind_interdomain] = { op_bind_interdomain, 12 },
		[EVTCHNOP_bind_virq] = { op_bind_virq, 12 },
		[EVTCHNOP_close] = { op_close, 4 },
		[EVTCHNOP_send] = { op_send, 4 },
		[EVTCHNOP_status] = { op_status, 24 },
		[EVTCHNOP_alloc_unbound] = { op_alloc_unbound, 8 },
		[EVTCHNOP_bind_ipi] = { op_bind_ipi, 8 },
		[EVTCHNOP_bind_vcpu] = { op_bind_vcpu, 8 },
		[EVTCHNOP_unmask] = { op_unmask, 4 },
	};
	uint8_t buf[24];
	uint32_t cmd = (uint32_t)a->arg[0];                /* int cmd */
	if (cmd >= ARRAY_SIZE(ops) || !ops[cmd].fn)
		return -XEN_ENOSYS;                           /* FIFO ABI, reset, pirqs: not offered */
	return with_struct(v, a->arg[1], buf, ops[cmd].len, ops[cmd].fn);
}

/* The VM ended: its ports close, so other domains' ends go back to unbound (Xen evtchn_destroy). */
void xen_evtchn_vm_ended(struct vm *vm)
{
	for (unsigned p = 1; p < XEN_NR_EVTCHN; p++)
		if (vm->hc.xen.evtchn[p].state == EVTCHNSTAT_interdomain)
			close_port(vm, p);
}

/* ---- vCPU timers (VCPUOP_*_timer) ---- */

/* v's Xen timers changed: xen_timers converts them again, and the scheduler polls after this exit. */
static void timers_changed(struct xen_vcpu_state *x)
{
	x->timers_dirty = true;
	sched_poke();
}

int64_t xen_vcpu_timer_op(struct vcpu *v, struct vcpu *t, const struct hc_args *a)
{
	struct xen_vcpu_state *x = &t->hc.xen;
	uint64_t now = pvclock_ns(v->vm, arch_read_counter());
	switch ((uint32_t)a->arg[0]) {
	case VCPUOP_set_singleshot_timer: {
		/* { uint64_t timeout_abs_ns; uint32_t flags; }: 16 bytes, 12 for a 32-bit caller (compat) */
		struct { uint64_t timeout_abs_ns; uint32_t flags, pad; } s = { 0 };
		if (t != v)
			return -XEN_EINVAL;                       /* only one's own (Xen) */
		if (xen_copy_in(v, a->arg[2], &s, a->long_mode ? 16 : 12))
			return -XEN_EFAULT;
		if ((s.flags & VCPU_SSHOTTMR_future) && s.timeout_abs_ns < now)
			return -XEN_ETIME;
		x->singleshot_ns = s.timeout_abs_ns ? s.timeout_abs_ns : 1;
		timers_changed(x);
		return 0;
	}
	case VCPUOP_stop_singleshot_timer:
		if (t != v)
			return -XEN_EINVAL;
		x->singleshot_ns = 0;
		timers_changed(x);
		return 0;
	case VCPUOP_set_periodic_timer: {
		uint64_t period;
		if (xen_copy_in(v, a->arg[2], &period, sizeof(period)))
			return -XEN_EFAULT;
		if (period < XEN_PERIODIC_MIN_NS || period > XEN_PERIODIC_MAX_NS)
			return -XEN_EINVAL;
		/* due one period after it last fired: at once, usually (Xen vcpu_periodic_timer_work) */
		x->periodic_ns = period;
		x->periodic_next_ns = x->periodic_last_ns + period;
		timers_changed(x);
		return 0;
	}
	case VCPUOP_stop_periodic_timer:
		x->periodic_ns = 0;
		timers_changed(x);
		return 0;
	}
	return -XEN_ENOSYS;
}

/*
 * The scheduler's poll: due timers raise VIRQ_TIMER (a periodic one then
 * counts its next period from now, as Xen's does); a SCHEDOP_poll past
 * its timeout wakes.
 */
uint64_t xen_timers(struct vcpu *v, uint64_t now)
{
	struct xen_vcpu_state *x = &v->hc.xen;
	if (!x->timers_dirty && now < x->timers_next_at)
		return x->timers_next_at;                      /* nothing due, nothing changed: no conversions */
	uint64_t ns = pvclock_ns(v->vm, now), next = UINT64_MAX;
	if (x->singleshot_ns && ns >= x->singleshot_ns) {
		x->singleshot_ns = 0;
		xen_virq_fire(v, VIRQ_TIMER);
	}
	if (x->periodic_ns && ns >= x->periodic_next_ns) {
		x->periodic_last_ns = ns;
		x->periodic_next_ns = ns + x->periodic_ns;
		xen_virq_fire(v, VIRQ_TIMER);
	}
	if (x->poll_deadline_ns && ns >= x->poll_deadline_ns) {
		x->poll_deadline_ns = 0;
		if (x->blocked && v->state == VCPU_HALTED)
			vcpu_wake(v);
	}
	if (x->singleshot_ns)
		next = MIN(next, pvclock_counter_at(v->vm, x->singleshot_ns));
	if (x->periodic_ns)
		next = MIN(next, pvclock_counter_at(v->vm, x->periodic_next_ns));
	if (x->poll_deadline_ns)
		next = MIN(next, pvclock_counter_at(v->vm, x->poll_deadline_ns));
	x->timers_dirty = false;
	x->timers_next_at = next;
	return next;
}

/* ---- waiting for events ---- */

/* SCHEDOP_block: sleep unless an event is already there (Xen vcpu_block_enable_events). */
int64_t xen_sched_block(struct vcpu *v)
{
	if (xen_upcall_pending(v))
		return 0;
	v->hc.xen.blocked = true;
	vcpu_halt(v);
	if (v->state != VCPU_HALTED)
		xen_vcpu_scheduled(v);                         /* a wake-up was already due: not blocked */
	return 0;
}

/*
 * SCHEDOP_poll { ports handle; unsigned nr_ports; uint64_t timeout; }
 * (64-bit: 24 bytes; 32-bit: 16): returns at once if a port is pending,
 * else sleeps until one is, or until the absolute system time `timeout`.
 */
int64_t xen_sched_poll(struct vcpu *v, const struct hc_args *a)
{
	uint8_t b[24];
	uint64_t ports = 0, timeout;
	uint32_t nr, list[XEN_POLL_MAX_PORTS];
	if (xen_copy_in(v, a->arg[1], b, a->long_mode ? 24 : 16))
		return -XEN_EFAULT;
	memcpy(&ports, b, a->long_mode ? 8 : 4);
	memcpy(&nr, b + (a->long_mode ? 8 : 4), 4);
	memcpy(&timeout, b + (a->long_mode ? 16 : 8), 8);
	if (nr > XEN_POLL_MAX_PORTS)
		return -XEN_EINVAL;
	if (xen_copy_in(v, ports, list, nr * sizeof(list[0])))
		return -XEN_EFAULT;
	/* Xen do_poll: events to deliver end it first, then ports in order, the first pending one ending it */
	if (xen_upcall_pending(v))
		return 0;
	for (uint32_t i = 0; i < nr; i++) {
		if (!port_valid(v->vm, list[i]))
			return -XEN_EINVAL;
		if (v->vm->hc.xen.shinfo_mapped && xen_gbit(v->vm, xen_pending_base(v->vm), list[i], XEN_BIT_TEST) == 1)
			return 0;
	}
	v->hc.xen.blocked = true;
	v->hc.xen.polling = true;
	v->hc.xen.poll_deadline_ns = timeout;
	timers_changed(&v->hc.xen);
	vcpu_halt(v);
	if (v->state != VCPU_HALTED)
		xen_vcpu_scheduled(v);
	return 0;
}

/* A vCPU that runs again is no longer blocked in a scheduler call. */
void xen_vcpu_scheduled(struct vcpu *v)
{
	v->hc.xen.blocked = false;
	v->hc.xen.polling = false;
	v->hc.xen.poll_deadline_ns = 0;
	timers_changed(&v->hc.xen);
}
