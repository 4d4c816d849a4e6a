/*
 * itrace: a QEMU TCG plugin (plugin API version 1, QEMU 7.x) for make profile
 * (tools/profile/profile.sh). Once the instruction at `arm` has executed
 * `after` times (counted only after the one at `pre`, if given, ran once:
 * firmware may run code at a guest's addresses first) it writes the address of every executed instruction (8
 * bytes each) to `out`, until `limit` are written or the instruction at
 * `stop` is reached. With hist=1 it counts executions per address instead
 * and writes "address count" lines.
 * The few declarations below follow QEMU's documented plugin API
 * (docs/devel/tcg-plugins.rst, include/qemu/qemu-plugin.h): QEMU's header
 * is not packaged by Debian.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { CB_NO_REGS };
typedef void (*tb_trans_cb)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*udata_cb)(unsigned int vcpu, void *udata);
typedef void (*atexit_cb)(qemu_plugin_id_t, void *);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, tb_trans_cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *, udata_cb, enum qemu_plugin_cb_flags, void *);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *, udata_cb, enum qemu_plugin_cb_flags, void *);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *, size_t);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, atexit_cb, void *);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t stop_at, pre_at, pre_seen, arm_at, arm_after, limit, seen, written;
static FILE *out;
static int hist;
#define HN (1u << 20)                  /* distinct addresses counted; more are dropped (and said so) */
static uint64_t hpc[HN], hcount[HN], distinct, dropped;

static void hist_dump(void)
{
	for (unsigned i = 0; i < HN; i++)
		if (hcount[i])
			fprintf(out, "%llx %llu\n", (unsigned long long)hpc[i], (unsigned long long)hcount[i]);
	if (dropped)
		fprintf(out, "dropped %llu\n", (unsigned long long)dropped);
	fflush(out);
}

static void on_insn(unsigned int vcpu, void *udata)
{
	uint64_t pc = (uint64_t)(uintptr_t)udata;
	(void)vcpu;
	if (written >= limit)
		return;
	if (pre_at && !pre_seen) {
		pre_seen = pc == pre_at;
		if (!pre_seen)
			return;
	}
	if (seen < arm_after) {
		if (pc == arm_at)
			seen++;
		if (seen < arm_after)
			return;
	}
	if (stop_at && pc == stop_at)
		limit = written + 1;               /* this one is the last */
	if (hist) {
		unsigned h = (unsigned)(pc * 0x9E3779B97F4A7C15ull >> 44) & (HN - 1);
		while (hcount[h] && hpc[h] != pc)
			h = (h + 1) & (HN - 1);
		if (!hcount[h] && distinct == HN - 1) {
			dropped++;
		} else {
			distinct += !hcount[h];
			hpc[h] = pc;
			hcount[h]++;
		}
		if (++written == limit)
			hist_dump();
		return;
	}
	fwrite(&pc, 8, 1, out);
	if (++written == limit)
		fflush(out);
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(tb);
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, CB_NO_REGS,
		                                       (void *)(uintptr_t)qemu_plugin_insn_vaddr(insn));
	}
}

static void on_exit_(qemu_plugin_id_t id, void *p)
{
	(void)id; (void)p;
	if (hist && written < limit)
		hist_dump();
	fclose(out);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	const char *path = "itrace.bin";
	limit = 1000000;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "stop=", 5)) stop_at = strtoull(argv[i] + 5, NULL, 0);
		else if (!strncmp(argv[i], "pre=", 4)) pre_at = strtoull(argv[i] + 4, NULL, 0);
		else if (!strncmp(argv[i], "arm=", 4)) arm_at = strtoull(argv[i] + 4, NULL, 0);
		else if (!strncmp(argv[i], "after=", 6)) arm_after = strtoull(argv[i] + 6, NULL, 0);
		else if (!strncmp(argv[i], "limit=", 6)) limit = strtoull(argv[i] + 6, NULL, 0);
		else if (!strncmp(argv[i], "out=", 4)) path = argv[i] + 4;
		else if (!strcmp(argv[i], "hist=1")) hist = 1;
	}
	out = fopen(path, "wb");
	if (!out)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	qemu_plugin_register_atexit_cb(id, on_exit_, NULL);
	return 0;
}
