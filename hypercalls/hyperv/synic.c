/*
 * The Hyper-V synthetic interrupt controller and synthetic timers (TLFS
 * "Synthetic Interrupt Controller (SynIC)", "Synthetic Timers"; the MSR
 * behaviour as KVM arch/x86/kvm/hyperv.c implements it), the VP assist
 * page, and the two calls that use the SynIC: PostMessage and SignalEvent.
 *
 * Each VP has 16 SINTs. A SINT names a vector of the VP's local APIC; the
 * message page (SIMP) holds one 256-byte message slot per SINT and the
 * event-flags page (SIEFP) 2048 flags per SINT. A message waits in its
 * VP's small queue while its slot is full; the guest empties a slot by
 * setting the message type to 0, and writes EOM when the hypervisor had
 * marked the slot "message pending".
 *
 * Ports and connections are made by the root partition on Hyper-V; here
 * every VM has, for each VP and SINT, one connection to it, numbered
 * HV_CONN_ID(vp, sint) (docs/hyperv.md): messages and events go between
 * the vCPUs of one VM, never to another VM.
 */
#define LOG_SUB_FILE LOG_SUB_HYPERV   /* its messages: loglevel=hyperv:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/sched.h"
#include "core/string.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/hyperv/hyperv.h"
#include "hypercalls/pvclock.h"

/* ---- SINTs ---- */

/* SINTs are stored with the mask bit flipped, so that zero is their reset value: masked. */
static uint64_t sint_reg(const struct vcpu *v, unsigned sint)
{
	return v->hc.hv.sint[sint] ^ HV_SYNIC_SINT_MASKED;
}

static bool synic_on(const struct vcpu *v)
{
	return v->hc.hv.scontrol & HV_SYNIC_CONTROL_ENABLE;
}

/* Interrupts v with SINT `sint`'s vector, unless the SynIC is off or the SINT masked. */
static void sint_raise(struct vcpu *v, unsigned sint)
{
	uint64_t r = sint_reg(v, sint);
	if (synic_on(v) && !(r & HV_SYNIC_SINT_MASKED))
		arch_send_ipi(v, (uint32_t)(r & HV_SYNIC_SINT_VECTOR_MASK));   /* fixed, edge */
}

/* The vectors of unmasked SINTs with AutoEOI end when accepted (TLFS "SINTx Registers"). */
static void sint_auto_eoi_update(struct vcpu *v)
{
	uint32_t vectors[8] = { 0 };
	for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++) {
		uint64_t r = sint_reg(v, i);
		if ((r & HV_SYNIC_SINT_AUTO_EOI) && !(r & HV_SYNIC_SINT_MASKED))
			vectors[(r & 0xff) / 32] |= 1u << (r & 31);
	}
	arch_set_auto_eoi(v, vectors);
}

/* ---- messages ---- */

/*
 * Writes message `m` into v's slot for `sint` and raises the SINT. A full
 * slot gets its "message pending" flag, so that the guest writes EOM once
 * it has emptied it: -EBUSY. No message page: -ENOENT.
 */
static int msg_deliver(struct vcpu *v, unsigned sint, const struct hv_message *m)
{
	const struct hv_vcpu_state *h = &v->hc.hv;
	if (!synic_on(v) || !(h->simp & HV_SYNIC_SIMP_ENABLE))
		return -ENOENT;
	gpa_t slot = mk_gpa((h->simp & PAGE_MASK) + (uint64_t)sint * sizeof(struct hv_message));
	struct hv_message head;
	if (gmem_read(v->vm, slot, &head, offsetof(struct hv_message, origin)))
		return -EFAULT;
	if (head.type != HVMSG_NONE) {
		head.flags |= HV_MESSAGE_FLAG_PENDING;
		gmem_write(v->vm, slot, &head, offsetof(struct hv_message, origin));
		return -EBUSY;
	}
	if (gmem_write(v->vm, slot, m, offsetof(struct hv_message, payload) + m->payload_size))
		return -EFAULT;
	sint_raise(v, sint);
	return 0;
}

/* Moves queued messages into free slots, oldest first per SINT. */
static void queue_drain(struct vcpu *v)
{
	struct hv_queued_message *q = v->hc.hv.queue;
	uint32_t busy = 0;                     /* SINTs whose slot turned out full */
	for (unsigned i = 0; i < HV_MSG_QUEUE_LEN;) {
		if (!q[i].used || (busy & (1u << q[i].sint))) {
			i++;
			continue;
		}
		if (msg_deliver(v, q[i].sint, (const struct hv_message *)q[i].bytes)) {
			busy |= 1u << q[i].sint;
			i++;
			continue;
		}
		memmove(&q[i], &q[i + 1], (HV_MSG_QUEUE_LEN - 1 - i) * sizeof(q[0]));
		q[HV_MSG_QUEUE_LEN - 1].used = false;
	}
}

/* Delivers now if nothing of that SINT waits before it, else queues; -ENOSPC when the queue is full. */
static int msg_post(struct vcpu *v, unsigned sint, const struct hv_message *m)
{
	struct hv_queued_message *q = v->hc.hv.queue;
	unsigned n = 0;
	bool waiting = false;
	for (; n < HV_MSG_QUEUE_LEN && q[n].used; n++)
		waiting |= q[n].sint == sint;
	if (!waiting && !msg_deliver(v, sint, m))
		return 0;
	if (n == HV_MSG_QUEUE_LEN)
		return -ENOSPC;
	q[n].used = true;
	q[n].sint = (uint8_t)sint;
	memcpy(q[n].bytes, m, sizeof(q[n].bytes));
	return 0;
}

/* ---- synthetic timers ---- */

static uint64_t ref_at(const struct vm *vm, uint64_t counter)
{
	return pvclock_ns(vm, counter) / 100;
}

/*
 * The first host counter value at which the VM's reference time (as
 * TIME_REF_COUNT reads it: ref_at) has reached `ref`: a timer never fires
 * before its time, and fires once.
 */
static uint64_t ref_to_counter(const struct vm *vm, uint64_t ref)
{
	return ref >= UINT64_MAX / 100 ? UINT64_MAX : pvclock_counter_at(vm, ref * 100);
}

/*
 * KVM stimer_start: a one-shot count is an absolute reference time (one in
 * the past fires at once); a periodic count is the period, and a late
 * periodic timer keeps its phase, dropping the periods it missed.
 *
 * A period has a floor, TIMER_MIN_PERIOD_NS (core/time.h; the local APIC's
 * periodic timer has the same): KVM has none for these timers, but here a
 * timer re-arming itself every 100 ns livelocked the host (the hostile guest
 * found it under Bochs). The count register still reads back what was written.
 */
#define HV_STIMER_MIN_PERIOD (TIMER_MIN_PERIOD_NS / 100)     /* 100 ns units */

static void stimer_start(struct hv_stimer *t, uint64_t now_ref)
{
	uint64_t period = MAX(t->count, HV_STIMER_MIN_PERIOD), wait = period;
	if (!(t->config & HV_STIMER_PERIODIC)) {
		t->due = t->count ? t->count : 1;
		return;
	}
	if (t->due && now_ref >= t->due)
		wait = period - (now_ref - t->due) % period;
	else if (t->due)
		return;
	/* a period past the end of time never comes (rather than wrapping into the past) */
	t->due = wait > UINT64_MAX - now_ref ? UINT64_MAX : now_ref + wait;
}

static void stimer_stop(struct hv_stimer *t)
{
	t->due = 0;
	t->msg_pending = false;
}

/* Sends timer n's expiry message; false when the slot was full (retried at EOM). */
static bool stimer_send(struct vcpu *v, unsigned n, uint64_t exp, uint64_t now_ref)
{
	struct hv_stimer *t = &v->hc.hv.stimer[n];
	if (t->config & HV_STIMER_DIRECT_MODE) {
		arch_send_ipi(v, (uint32_t)(t->config >> HV_STIMER_VECTOR_SHIFT) & 0xff);
		return true;
	}
	struct hv_message m = {
		.type = HVMSG_TIMER_EXPIRED, .payload_size = sizeof(struct hv_timer_message_payload),
	};
	struct hv_timer_message_payload p = { .timer_index = n, .expiration_time = exp, .delivery_time = now_ref };
	memcpy(m.payload, &p, sizeof(p));
	return !msg_deliver(v, (unsigned)(t->config >> HV_STIMER_SINT_SHIFT) & 0xf, &m);
}

/*
 * Timer n fired (KVM stimer_expiration): a one-shot one is then disabled, a
 * periodic one re-armed. A one-shot message that finds its slot full waits
 * for EOM; a periodic one is dropped, the next period will come.
 */
static void stimer_fire(struct vcpu *v, unsigned n, uint64_t exp, uint64_t now_ref)
{
	struct hv_stimer *t = &v->hc.hv.stimer[n];
	v->hc.hv.stimer_dirty = true;
	t->due = 0;
	if (!stimer_send(v, n, exp, now_ref) && !(t->config & HV_STIMER_PERIODIC)) {
		t->msg_pending = true;
		t->pending_exp = exp;
		return;
	}
	t->msg_pending = false;
	if (t->config & HV_STIMER_PERIODIC) {
		t->due = exp;
		stimer_start(t, now_ref);
	} else {
		t->config &= ~HV_STIMER_ENABLE;
	}
}

uint64_t hv_stimer_poll(struct vcpu *v, uint64_t now)
{
	struct hv_vcpu_state *h = &v->hc.hv;
	if (!h->stimer_dirty && now < h->stimer_next_at)
		return h->stimer_next_at;                      /* nothing due, nothing changed: no conversions */
	uint64_t next = UINT64_MAX;
	for (unsigned n = 0; n < HV_STIMER_COUNT; n++) {
		struct hv_stimer *t = &v->hc.hv.stimer[n];
		if (!(t->config & HV_STIMER_ENABLE) || !t->due)
			continue;
		uint64_t at = ref_to_counter(v->vm, t->due);
		if (now >= at) {
			stimer_fire(v, n, t->due, ref_at(v->vm, now));
			at = t->due ? ref_to_counter(v->vm, t->due) : UINT64_MAX;
		}
		next = MIN(next, at);
	}
	h->stimer_dirty = false;
	h->stimer_next_at = next;
	return next;
}

/* EOM, or a page turned on: queued messages and held timer messages get another chance. */
static void synic_retry(struct vcpu *v)
{
	queue_drain(v);
	uint64_t now_ref = hv_time_ref_count(v->vm);
	for (unsigned n = 0; n < HV_STIMER_COUNT; n++)
		if (v->hc.hv.stimer[n].msg_pending)
			stimer_fire(v, n, v->hc.hv.stimer[n].pending_exp, now_ref);
}

#define HV_STIMER_CONFIG_RESERVED (~0xf1fffull)    /* 15:13, 63:20 */

static int stimer_write(struct vcpu *v, unsigned n, bool is_count, uint64_t val)
{
	struct hv_stimer *t = &v->hc.hv.stimer[n];
	v->hc.hv.stimer_dirty = true;                     /* every change of a timer is here or in stimer_fire */
	sched_poke();
	if (is_count) {
		t->count = val;
		if (!val)
			t->config &= ~HV_STIMER_ENABLE;
		else if (t->config & HV_STIMER_AUTO_ENABLE)
			t->config |= HV_STIMER_ENABLE;
	} else {
		if (val & HV_STIMER_CONFIG_RESERVED)
			return -EINVAL;
		/* a message-mode timer needs a SINT other than 0: else it is disabled at once (TLFS) */
		if (!(val & HV_STIMER_DIRECT_MODE) && !((val >> HV_STIMER_SINT_SHIFT) & 0xf))
			val &= ~HV_STIMER_ENABLE;
		t->config = val;
	}
	stimer_stop(t);
	if ((t->config & HV_STIMER_ENABLE) && t->count)
		stimer_start(t, hv_time_ref_count(v->vm));
	else
		t->config &= ~HV_STIMER_ENABLE;
	return 0;
}

/* ---- MSRs ---- */

/* Turning SIMP or SIEFP on clears the page (KVM synic_set_msr; the TLFS says so for VP creation). */
static int page_on(struct vcpu *v, uint64_t val, uint64_t bytes)
{
	static const uint8_t zero[256];
	for (uint64_t off = 0; off < bytes; off += MIN(bytes - off, sizeof(zero)))
		if (gmem_write(v->vm, mk_gpa((val & PAGE_MASK) + off), zero, MIN(bytes - off, sizeof(zero))))
			return -EINVAL;
	return 0;
}

/*
 * The reserved bits of SCONTROL, SIMP, SIEFP, the SINTs and the VP assist
 * page are RsvdP in the TLFS (software preserves them): a write with them
 * set is taken and read back, as KVM does, never a #GP. The page GPAs are
 * the bits from 12 up.
 */

int hv_synic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	const struct hv_vcpu_state *h = &v->hc.hv;
	switch (msr) {
	case HV_X64_MSR_VP_ASSIST_PAGE: *val = h->vp_assist; return 0;
	case HV_X64_MSR_SCONTROL:       *val = h->scontrol; return 0;
	case HV_X64_MSR_SVERSION:       *val = HV_SYNIC_VERSION_1; return 0;
	case HV_X64_MSR_SIEFP:          *val = h->siefp; return 0;
	case HV_X64_MSR_SIMP:           *val = h->simp; return 0;
	case HV_X64_MSR_EOM:            *val = 0; return 0;
	}
	if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15) {
		*val = sint_reg(v, msr - HV_X64_MSR_SINT0);
		return 0;
	}
	if (msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT) {
		const struct hv_stimer *t = &h->stimer[(msr - HV_X64_MSR_STIMER0_CONFIG) / 2];
		*val = (msr - HV_X64_MSR_STIMER0_CONFIG) % 2 ? t->count : t->config;
		return 0;
	}
	return -ENOENT;
}

int hv_synic_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct hv_vcpu_state *h = &v->hc.hv;
	switch (msr) {
	case HV_X64_MSR_VP_ASSIST_PAGE:
		if (val & HV_X64_MSR_VP_ASSIST_PAGE_ENABLE) {
			/* only apic_assist is cleared; the rest of the page is the guest's (KVM) */
			if (page_on(v, val, sizeof(uint32_t)))
				return -EINVAL;
			/* apic_assist, the page's first word: bit 0 says "no EOI needed" as KVM's PV EOI does */
			arch_set_pv_eoi(v, val & PAGE_MASK, true);
		} else {
			arch_set_pv_eoi(v, 0, false);
		}
		h->vp_assist = val;
		return 0;
	case HV_X64_MSR_SCONTROL:
		h->scontrol = val;
		synic_retry(v);
		return 0;
	case HV_X64_MSR_SIEFP:
	case HV_X64_MSR_SIMP:
		if ((val & HV_SYNIC_SIMP_ENABLE) && page_on(v, val, PAGE_SIZE))
			return -EINVAL;
		*(msr == HV_X64_MSR_SIMP ? &h->simp : &h->siefp) = val;
		synic_retry(v);
		return 0;
	case HV_X64_MSR_EOM:
		synic_retry(v);
		return 0;
	case HV_X64_MSR_SVERSION:
		return -EINVAL;
	}
	if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15) {
		/* an unmasked SINT needs a vector from 16 up (KVM synic_set_sint) */
		if (!(val & HV_SYNIC_SINT_MASKED) && (val & HV_SYNIC_SINT_VECTOR_MASK) < HV_SYNIC_FIRST_VALID_VECTOR)
			return -EINVAL;
		h->sint[msr - HV_X64_MSR_SINT0] = val ^ HV_SYNIC_SINT_MASKED;
		sint_auto_eoi_update(v);
		return 0;
	}
	if (msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT)
		return stimer_write(v, (msr - HV_X64_MSR_STIMER0_CONFIG) / 2, (msr - HV_X64_MSR_STIMER0_CONFIG) % 2, val);
	return -ENOENT;
}

/* ---- PostMessage, SignalEvent ---- */

/* The VP and SINT a connection ID names, or NULL (HV_CONN_ID in hv_abi.h). */
static struct vcpu *conn_target(const struct hv_ctx *c, uint32_t conn, unsigned *sint)
{
	struct vm *vm = c->v->vm;
	if ((conn & ~HV_CONN_ID_MASK) != HV_CONN_ID_BASE)
		return NULL;
	unsigned vp = (conn & HV_CONN_ID_MASK) >> 4;
	*sint = conn & 0xf;
	return vp < vm->nr_vcpus ? vm->vcpus[vp] : NULL;
}

/*
 * Whether `sint` of `t` can take messages or events (TLFS: otherwise
 * HV_STATUS_INVALID_SYNIC_STATE): the SynIC on, the page on, the SINT unmasked.
 */
static bool sint_ready(const struct vcpu *t, unsigned sint, uint64_t page)
{
	return synic_on(t) && (page & HV_SYNIC_SIMP_ENABLE) && !(sint_reg(t, sint) & HV_SYNIC_SINT_MASKED);
}

/*
 * HvCallPostMessage: connection ID, reserved, message type, payload size,
 * 240 bytes of payload (TLFS). Types with bit 31 set are the hypervisor's.
 */
uint16_t hv_post_message(struct hv_ctx *c)
{
	uint32_t conn = (uint32_t)c->input[0], type = (uint32_t)c->input[1];
	uint32_t size = (uint32_t)(c->input[1] >> 32);
	unsigned sint;
	if (c->input[0] >> 32)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (size > HV_MESSAGE_PAYLOAD_BYTES || type == HVMSG_NONE || (type & HV_MESSAGE_TYPE_HYPERVISOR))
		return HV_STATUS_INVALID_PARAMETER;
	struct vcpu *t = conn_target(c, conn, &sint);
	if (!t)
		return HV_STATUS_INVALID_CONNECTION_ID;
	if (!sint_ready(t, sint, t->hc.hv.simp))
		return HV_STATUS_INVALID_SYNIC_STATE;
	struct hv_message m = { .type = type, .payload_size = (uint8_t)size, .origin = conn };
	memcpy(m.payload, &c->input[2], size);
	return msg_post(t, sint, &m) ? HV_STATUS_INSUFFICIENT_BUFFERS : HV_STATUS_SUCCESS;
}

/*
 * HvCallSignalEvent: connection ID, flag number, reserved. Sets the flag in
 * the target SINT's event flags; a flag that was clear raises the SINT.
 */
uint16_t hv_signal_event(struct hv_ctx *c)
{
	uint32_t conn = (uint32_t)c->input[0];
	uint32_t flag = (uint16_t)(c->input[0] >> 32);
	unsigned sint;
	if (c->input[0] >> 48)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	struct vcpu *t = conn_target(c, conn, &sint);
	if (!t)
		return HV_STATUS_INVALID_CONNECTION_ID;
	if (flag >= HV_EVENT_FLAGS_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	if (!sint_ready(t, sint, t->hc.hv.siefp))
		return HV_STATUS_INVALID_SYNIC_STATE;
	gpa_t at = mk_gpa((t->hc.hv.siefp & PAGE_MASK) + sint * (HV_EVENT_FLAGS_COUNT / 8) + flag / 8);
	uint8_t byte;
	if (gmem_read(t->vm, at, &byte, 1))
		return HV_STATUS_INVALID_SYNIC_STATE;
	if (byte & (1u << (flag % 8)))
		return HV_STATUS_SUCCESS;
	byte |= (uint8_t)(1u << (flag % 8));
	if (gmem_write(t->vm, at, &byte, 1))
		return HV_STATUS_INVALID_SYNIC_STATE;
	sint_raise(t, sint);
	return HV_STATUS_SUCCESS;
}
