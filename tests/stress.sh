#!/bin/bash
# stress.sh BUILD THOUSANDS: the long hostile-guest run (make stress;
# docs/bad-input.md). tests/configs/storm.cfg with storm=THOUSANDS: two VMs
# (64- and 32-bit, two vCPUs each, every ABI) make THOUSANDS thousand random
# calls and MSR accesses each under QEMU SVM, then under Bochs VMX a tenth of that; a canary
# VM keeps its memory, the hypervisor hashes its code and read-only data at
# start and end. Prints the calls survived; exits non-zero on any failure.
set -u
build=$1 k=$2
logs=$build/stress-logs
mkdir -p "$logs"
fail=0
run() { # run NAME MODE IMAGE CPU CALLS-PER-VM
	local name=$1 mode=$2 image=$3 cpu=$4 n=$5 log=$logs/$1.log start=$SECONDS
	echo "== $name: $((2 * n)) calls"
	if [ "$mode" = bochs ]; then
		RUN_TIMEOUT=${STRESS_TIMEOUT:-3600} tests/run-bochs.sh "$cpu" "$image" "$log" > "$logs/$name.out" 2>&1
	else
		RUN_TIMEOUT=${STRESS_TIMEOUT:-3600} tests/run-qemu.sh "$mode" "$image" "$log" "$cpu" > "$logs/$name.out" 2>&1
	fi
	local rc=$? made=0
	grep -a "INFO storm.run" "$log" | sed 's/^/  /'
	for vm in storm64 storm32; do
		c=$(grep -aoE "^\[$vm\] .*INFO storm.run [0-9]+" "$log" | grep -oE "[0-9]+$")
		made=$((made + ${c:-0}))
	done
	local ok=1
	[ "$rc" = 0 ] || ok=0
	[ "$made" = $((2 * n)) ] || ok=0
	for t in storm64/storm.run storm64/storm.alive storm32/storm.run storm32/storm.alive canary/isolation.canary; do
		grep -qaF "[${t%/*}] TEST ${t#*/} PASS" "$log" || { ok=0; echo "  missing: ${t%/*} ${t#*/} PASS"; }
	done
	grep -qaE "hv: text and rodata hash [0-9a-f]+ at start and end: unchanged" "$log" || ok=0
	grep -a "text and rodata hash" "$log" | sed 's/^/  /'
	# the hypervisor's own count: every hypercall exit of the two VMs (a continued call's entries each count)
	local exits
	exits=$(grep -aoE "^hv: storm(64|32): hypercalls: [0-9]+" "$log" | awk '{ s += $NF } END { print s }')
	if [ "$ok" = 1 ]; then
		echo "STRESS $name PASS: $made calls and MSR accesses made, ${exits:-?} hypercalls counted by the hypervisor, all survived ($((SECONDS - start)) s)"
	else
		echo "STRESS $name FAIL (log: $log)"
		fail=1
	fi
}
run qemu-svm bios "$build/test-stress.iso" max $((k * 1000))
run bochs-vmx bochs "$build/test-bochs-stress.iso" corei7_skylake_x $((k * 100))
[ "$fail" = 0 ]
