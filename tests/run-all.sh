#!/bin/bash
# run-all.sh BUILD: every test. Host unit tests (ASan+UBSan, cmocka TAP output),
# then every emulator scenario; each guest TEST line and each host-side
# assertion counts once. Ends with the line "N passed, M failed" and exits
# non-zero on any failure. Logs: BUILD/test-logs/.
set -u
build=${1:-build}
logs=$build/test-logs
rm -rf "$logs"
mkdir -p "$logs"
pass=0 fail=0
failed_runs=() # scenarios with a failure: their logs' last lines close the output
failed=() # names of what failed, repeated at the end where a CI log's tail shows them

ok()  { echo "TEST $1 PASS"; pass=$((pass + 1)); }
bad() { echo "TEST $1 FAIL $2"; fail=$((fail + 1)); failed+=("$1 $2"); }
check() { # check NAME COMMAND...: a host-side assertion
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else bad "$name" "($*)"; fi
}

echo "== host unit tests"
for t in "$build"/unit/bin/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 120 "$t" > "$logs/$name.log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$logs/$name.log")
	f=$(grep -c '^not ok ' "$logs/$name.log")
	pass=$((pass + p)) fail=$((fail + f))
	while read -r line; do
		echo "  $name: $line"
		failed+=("unit.$name: $line")
	done < <(grep '^not ok ' "$logs/$name.log")
	if [ $rc != 0 ] && [ "$f" = 0 ]; then
		bad "unit.$name" "exited with status $rc (sanitizer report in $logs/$name.log)"
	fi
	echo "  $name: $p passed, $f failed"
done

# Fuzzing (tests/fuzz, docs/bad-input.md): each libFuzzer harness from its
# seed corpus for a few seconds; any crash, leak, hang or broken rule fails.
echo "== fuzz (${FUZZ_SECONDS:-5} s per harness)"
tests/fuzz/run.sh "$build" "${FUZZ_SECONDS:-5}" kvm hyperv xen multi > "$logs/fuzz.out" 2>&1
sed 's/^/  /' "$logs/fuzz.out"
for h in kvm hyperv xen multi; do
	check "fuzz.$h.no_findings" grep -qE "^fuzz $h: [0-9]+ execs .* 0 findings$" "$logs/fuzz.out"
	check "fuzz.$h.ran" grep -qE "^fuzz $h: [1-9][0-9]* execs" "$logs/fuzz.out"
done

# The bad-input table: every row names its test, and every unit test it names exists.
check docs.bad_input_rows_name_tests tools/check-bad-input.py

# scenario NAME MODE IMAGE CPU [crashes]: boots once (MODE bios/uefi/esp: QEMU
# with -cpu CPU; MODE bochs: Bochs with model CPU); guest TEST lines count under
# NAME/. Unless the 5th argument says the run crashes on purpose, a crash dump
# or panic of the hypervisor fails it.
scenario() {
	local name=$1 mode=$2 image=$3 cpu=$4 crashes=${5:-} log=$logs/$1.log
	echo "== $name ($mode, cpu $cpu)"
	local start=$SECONDS fail0=$fail
	if [ "$mode" = bochs ]; then
		BOCHS_LOG_DIR=$logs tests/run-bochs.sh "$cpu" "$image" "$log" > "$logs/$name.out" 2>&1
	else
		tests/run-qemu.sh "$mode" "$image" "$log" "$cpu" > "$logs/$name.out" 2>&1
	fi
	last=$(tail -1 "$logs/$name.out")
	echo "  $last ($((SECONDS - start)) s)"
	while read -r vm word test result why; do
		vm=${vm#[}; vm=${vm%]}
		if [ "$result" = PASS ]; then ok "$name/$vm/$test"; else bad "$name/$vm/$test" "$why"; fi
	done < <(grep -a '^\[[^]]*\] TEST ' "$log")
	[ -n "$crashes" ] || check "$name.no_hypervisor_crash" bash -c "! grep -qa -e 'CRASH' -e 'PANIC' '$log'"
	check "$name.clean_stop" grep -qa 'hv: stopping the machine' "$log"
	[ "$fail" = "$fail0" ] || failed_runs+=("$name")
}
# on_all_vendors CFG QEMU-MIN BOCHS-MIN: tests/configs/CFG.cfg under QEMU SVM,
# Bochs VMX (Skylake-X) and Bochs SVM (Ryzen); both VMs succeed, and at least
# that many guest TEST lines pass (Bochs also runs the INT1 checks).
on_all_vendors() {
	local cfg=$1 qmin=$2 bmin=$3
	scenario "qemu-$cfg" bios "$build/test-$cfg.iso" max
	check "qemu-$cfg.all_vms_succeeded" in_log "qemu-$cfg" "hv: 2 of 2 VMs succeeded"
	check "qemu-$cfg.guest_test_count" test "$(guest_tests "qemu-$cfg")" -ge "$qmin"
	for model in corei7_skylake_x ryzen; do
		scenario "bochs-$cfg-$model" bochs "$build/test-bochs-$cfg.iso" "$model"
		check "bochs-$cfg-$model.all_vms_succeeded" in_log "bochs-$cfg-$model" "hv: 2 of 2 VMs succeeded"
		check "bochs-$cfg-$model.guest_test_count" test "$(guest_tests "bochs-$cfg-$model")" -ge "$bmin"
	done
}
guest_tests() { grep -ac '^\[[^]]*\] TEST .* PASS' "$logs/$1.log"; }
in_log() { grep -qaF -- "$2" "$logs/$1.log"; }
status_is() { grep -qF "$2" "$logs/$1.out"; }

# The ISO (make run: boot/hv.cfg): five VMs at once, one per ABI (KVM in both
# builds, 64-bit Hyper-V, 32-bit Xen) and one that speaks all three, 138 guest
# checks in all under QEMU; each VM's hypercall table is printed as it ends.
for s in bios uefi; do
	scenario "qemu-$s" "$s" "$build/hv.iso" max
	check "qemu-$s.exit_success" status_is "qemu-$s" "all VMs succeeded"
	check "qemu-$s.all_vms_succeeded" in_log "qemu-$s" "hv: 5 of 5 VMs succeeded"
	check "qemu-$s.guest_test_count" test "$(guest_tests "qemu-$s")" -ge 138
	for vm in kvm64 kvm32 hyperv64 xen32 all3; do
		check "qemu-$s.${vm}_table" grep -qaE "hv: $vm: hypercalls: [1-9][0-9]*, " "$logs/qemu-$s.log"
	done
done

# The gnu-efi entry: hv.efi from an ESP, guests as files, arguments by args=.
esp=$build/esp-test
rm -rf "$esp"
boot/uefi/mkesp.sh "$esp" "$build/hv.efi" \
	"exit=qemu guest=/guests/test-guest64.elf args=qemu-tcg,smp=4 vcpus=4 guest=/guests/test-guest32.elf args=from,the,esp,qemu-tcg" \
	"$build/guests/test-guest64.elf" "$build/guests/test-guest32.elf"
scenario qemu-esp esp "$esp" max
check qemu-esp.exit_success status_is qemu-esp "all VMs succeeded"
check qemu-esp.guest_args in_log qemu-esp 'cmdline="from the esp qemu-tcg"'
check qemu-esp.guest_test_count test "$(guest_tests qemu-esp)" -ge 59

# Bad input: each case stops only its VM with one clear line; the last guest still passes.
bad_input_checks() {
	local b=$1
	check $b.reported_failure status_is $b "the hypervisor reported a failed VM"
	check $b.bad_token in_log $b "hv: command line: 'mem=12Q': guest memory must be"
	check $b.oob64_npf in_log $b "hv: vm0: nested page fault: vcpu0: read at guest-physical 0x40001000 outside guest memory"
	check $b.oob32_npf in_log $b "hv: vm1: nested page fault: vcpu0: read at guest-physical 0x40001000 outside guest memory"
	check $b.triple64 in_log $b "hv: vm2: triple fault: vcpu0: triple fault (shutdown)"
	check $b.triple32 in_log $b "hv: vm3: triple fault: vcpu0: triple fault (shutdown)"
	check $b.not_elf in_log $b "hv: vm4: not started: notelf: not an ELF file"
	check $b.outside_memory in_log $b "hv: vm5: not started: small: segment 0 [0x100000,"
	check $b.overlap in_log $b "hv: vm6: not started: overlap: segments 0 and 1 overlap"
	check $b.missing_module in_log $b "hv: vm7: not started: /boot/nothere.elf: no such boot module"
	check $b.good_guest_after in_log $b "hv: vm8: exited: vcpu0 wrote status 0"
	check $b.summary in_log $b "hv: 1 of 9 VMs succeeded"
	check $b.oob_reached in_log $b "[vm0] TEST x86_64.oob_access_started PASS"
}
scenario qemu-bad-input bios "$build/test-bad-input.iso" max
bad_input_checks qemu-bad-input

# The hypervisor's own protections and reports, on the real binary
# (core/selftest.h): each fault gets a crash dump with the right vector and
# error code (present/write/fetch bits) and a backtrace, then a clean stop.
selftest() { # selftest NAME EXPECTED-CRASH-LINE
	local name=selftest-$1
	scenario "$name" bios "$build/test-selftest-$1.iso" max crashes
	check "$name.crash_report" in_log "$name" "$2"
	check "$name.backtrace" bash -c "grep -A3 '^backtrace' '$logs/$name.log' | grep -c '^  0x' | grep -qv '^[01]$'"
	check "$name.stopped_with_status_3" in_log "$name" "hv: stopping the machine (status 3)"
}
selftest ud "hv: CRASH: exception 6 (#UD invalid opcode) error code 0x0"
selftest write-text "hv: CRASH: exception 14 (#PF page fault) error code 0x3"
selftest exec-data "hv: CRASH: exception 14 (#PF page fault) error code 0x11"
selftest null "hv: CRASH: exception 14 (#PF page fault) error code 0x0"
check selftest-write-text.fault_address bash -c "grep -q \"cr2 \$(grep -o 'own code at 0x[0-9a-f]*' '$logs/selftest-write-text.log' | sed 's/.*0x/0*/')\" '$logs/selftest-write-text.log'"
# A guest state the CPU refuses is reported, never silent (SVM: VMEXIT_INVALID).
scenario selftest-bad-entry bios "$build/test-selftest-bad-entry.iso" max
check selftest-bad-entry.svm_report in_log selftest-bad-entry "hv: vm0: hypervisor error: vcpu0: VMRUN refused the guest state (VMEXIT_INVALID)"
check selftest-bad-entry.other_vm_ran in_log selftest-bad-entry "hv: vm1: exited: vcpu0 wrote status 0"

# Controls the CPU refuses: SVM (ASID 0) exits with VMEXIT_INVALID.
scenario selftest-bad-control bios "$build/test-selftest-bad-control.iso" max
check selftest-bad-control.svm_report in_log selftest-bad-control "hv: vm0: hypervisor error: vcpu0: VMRUN refused the guest state (VMEXIT_INVALID)"
check selftest-bad-control.other_vm_ran in_log selftest-bad-control "hv: vm1: exited: vcpu0 wrote status 0"

# CPUs that cannot run guests: one clear line and a clean stop.
scenario qemu-no-svm bios "$build/hv.iso" max,-svm
check qemu-no-svm.message in_log qemu-no-svm "this CPU has neither Intel VMX nor AMD SVM"
check qemu-no-svm.stopped status_is qemu-no-svm "the hypervisor reported a failed VM"
scenario qemu-no-npt bios "$build/hv.iso" qemu64
check qemu-no-npt.message in_log qemu-no-npt "SVM without nested paging"
check qemu-no-npt.stopped status_is qemu-no-npt "the hypervisor reported a failed VM"

# The same guests and bad input on Intel VMX + EPT (Bochs Skylake-X and Tiger
# Lake, VMCS revisions 0x2b and 4) and on AMD SVM with NRIPS (Bochs Ryzen).
for model in corei7_skylake_x tigerlake ryzen; do
	scenario "bochs-$model" bochs "$build/test-bochs-default.iso" "$model"
	check "bochs-$model.all_vms_succeeded" in_log "bochs-$model" "hv: 2 of 2 VMs succeeded"
	check "bochs-$model.guest_test_count" test "$(guest_tests "bochs-$model")" -ge 61
done

# VMs that speak the Hyper-V ABI (abi=hyperv), two vCPUs each: discovery, the
# hypercall page and its VTL entries, the TLFS conventions and statuses, XMM
# fast calls, a rep call continued several times, VP registers, the synthetic
# MSRs, flushes and IPIs, the reference TSC page, SynIC messages and events,
# synthetic timers, the VP assist page (20 checks per guest build, next to the
# x86 ones and the SMP boot), on QEMU SVM, Bochs VMX and Bochs SVM.
on_all_vendors hyperv 57 59

# VMs that speak the Xen ABI (abi=xen), two vCPUs each: the CPUID leaves, the
# hypercall page and direct VMCALL/VMMCALL, CPL 3, xen_version, console_io,
# sched_op, shared_info and its clocks, HVM params, event channels (IPIs to
# either vCPU, masking, loopback interdomain, status and errors), VIRQ_TIMER
# from the vCPU timers, SCHEDOP_block/poll, the runstate area,
# register_vcpu_info and ballooning (17 checks per guest build, next to the
# x86 ones and the SMP boot), on QEMU SVM, Bochs VMX and Bochs SVM. Each guest writes a line through CONSOLEIO_write
# and, with every check passed, ends by SCHEDOP_shutdown(poweroff): the
# hypervisor must show both.
xen_host_checks() { # xen_host_checks SCENARIO
	local s=$1 vm
	for vm in vm0:x86_64 vm1:x86_32; do
		check "$s.${vm%:*}_console_io_line" in_log "$s" \
			"[${vm%:*}] INFO xen.console_io written by ${vm#*:} through CONSOLEIO_write"
		check "$s.${vm%:*}_shutdown_poweroff" in_log "$s" "hv: ${vm%:*}: exited: vcpu0: SCHEDOP_shutdown poweroff"
		# what issue 6 names: both domains at once, each side of the grant and the channel
		for t in grant_map_interdomain evtchn_interdomain continuation vcpu_up; do
			check "$s.${vm%:*}_$t" in_log "$s" "[${vm%:*}] TEST xen.$t PASS"
		done
	done
}
on_all_vendors xen 63 65
for s in qemu-xen bochs-xen-corei7_skylake_x bochs-xen-ryzen; do
	xen_host_checks "$s"
done

# VMs that speak several ABIs (abi=hyperv,xen,kvm, named all3, with a deny=
# policy; and abi=xen,kvm): 7 multi.* checks and policy.deny on top of the
# generic ones, each named in each VM it applies to; the denials are counted
# in the VM's table.
# vm1 also has ext=on (5 ext.* checks, its debug_log line in the hypervisor's
# log), all3 not (ext.off).
on_all_vendors multi 31 33
for s in qemu-multi bochs-multi-corei7_skylake_x bochs-multi-ryzen; do
	check "$s.vm1_ext_debug_log_line" in_log "$s" "hv: vm1: vcpu0 says: ext.debug_log: a line from the guest"
	for t in all3/multi.cpuid_layout all3/multi.hyperv_page all3/multi.xen_page all3/multi.direct all3/policy.deny \
	         all3/ext.off vm1/multi.cpuid_layout vm1/multi.xen_page vm1/multi.direct vm1/ext.cpuid vm1/ext.debug_log \
	         vm1/ext.unmap_gpa_range vm1/ext.mem_attributes vm1/ext.inject_event; do
		check "$s.${t%/*}_${t#*/}" in_log "$s" "[${t%/*}] TEST ${t#*/} PASS"
	done
	check "$s.all3_denials_counted" grep -qaE "hv: all3: hypercalls: [0-9]+, [0-9]+ errors, 3 denied" "$logs/$s.log"
done

# Isolation (tests/guests/isolation.c): the attacker gives every pointer-taking
# call of every ABI addresses that are not its own, the canary VM's memory
# stays as it was, and the hypervisor's code and read-only data too.
on_all_vendors isolation 22 24
for s in qemu-isolation bochs-isolation-corei7_skylake_x bochs-isolation-ryzen; do
	for t in attacker/kvm_pointers attacker/hyperv_pointers attacker/xen_pointers attacker/ext_pointers canary/canary; do
		check "$s.${t%/*}_${t#*/}" in_log "$s" "[${t%/*}] TEST isolation.${t#*/} PASS"
	done
	check "$s.image_unchanged" grep -qaE "hv: text and rodata hash [0-9a-f]+ at start and end: unchanged" "$logs/$s.log"
done

# The hostile guest (tests/guests/storm.c, docs/bad-input.md): two VMs (64-
# and 32-bit, two vCPUs each, every ABI) make random calls with random
# arguments and pointers at CPL 0 and 3, check every ABI still answers, and
# the canary VM's memory and the hypervisor's code stay as they were: 20
# thousand calls per VM (make stress: 600 thousand).
storm_checks() { # storm_checks SCENARIO CALLS-PER-VM
	local s=$1 n=$2
	check "$s.all_vms_succeeded" in_log "$s" "hv: 3 of 3 VMs succeeded"
	for t in storm64/storm.run storm64/storm.alive storm32/storm.run storm32/storm.alive canary/isolation.canary; do
		check "$s.${t%/*}_${t#*/}" in_log "$s" "[${t%/*}] TEST ${t#*/} PASS"
	done
	for vm in storm64 storm32; do
		check "$s.${vm}_calls" grep -qaE "^\[$vm\] .*INFO storm.run $n hypercalls and MSR accesses on 2 vCPUs" "$logs/$s.log"
	done
	check "$s.image_unchanged" grep -qaE "hv: text and rodata hash [0-9a-f]+ at start and end: unchanged" "$logs/$s.log"
}
scenario qemu-storm bios "$build/test-storm.iso" max
storm_checks qemu-storm 20000
for model in corei7_skylake_x ryzen; do
	scenario "bochs-storm-$model" bochs "$build/test-bochs-storm.iso" "$model"
	storm_checks "bochs-storm-$model" 20000
done

# Multi-vCPU VMs in both guest builds (16 SMP and local-APIC checks each on
# top of the single-vCPU ones): QEMU SVM, Bochs VMX and Bochs SVM.
on_all_vendors smp 75 77
check bochs-corei7_skylake_x.uses_vmx in_log bochs-corei7_skylake_x "hv: virtualization: Intel VMX"
check bochs-tigerlake.vmcs_revision_4 in_log bochs-tigerlake "VMCS revision 0x4,"
check bochs-ryzen.svm_with_nrips in_log bochs-ryzen "NRIPS yes"
# VMX without EPT (Penryn): one clear line, clean stop. EPT without unrestricted
# guest (Nehalem): the 64-bit guest runs, the 32-bit one is refused clearly.
scenario bochs-vmx-no-ept bochs "$build/test-bochs-default.iso" core2_penryn_t9600
check bochs-vmx-no-ept.message in_log bochs-vmx-no-ept "hv: VMX without EPT"
check bochs-vmx-no-ept.stopped in_log bochs-vmx-no-ept "hv: stopping the machine (status 1)"
scenario bochs-vmx-no-ug bochs "$build/test-bochs-one-vcpu.iso" corei5_lynnfield_750
check bochs-vmx-no-ug.guest64_ran in_log bochs-vmx-no-ug "hv: vm0: exited: vcpu0 wrote status 0"
check bochs-vmx-no-ug.guest32_refused in_log bochs-vmx-no-ug "hv: vm1: not started: /boot/test-guest32.elf: this CPU cannot start a guest in the mode its image needs"
check bochs-vmx-no-ug.guest_test_count test "$(guest_tests bochs-vmx-no-ug)" -ge 23
# VMX: the failing guest-state check is named.
scenario bochs-vmx-bad-entry bochs "$build/test-bochs-selftest-bad-entry.iso" corei7_skylake_x
check bochs-vmx-bad-entry.names_check in_log bochs-vmx-bad-entry "hv: vm0: hypervisor error: vcpu0: VM entry failed: invalid guest state: IA-32e mode guest without CR4.PAE"
check bochs-vmx-bad-entry.other_vm_ran in_log bochs-vmx-bad-entry "hv: vm1: exited: vcpu0 wrote status 0"
# VMX: VMLAUNCH fails with VMfailValid; the VM-instruction error is named.
scenario bochs-vmx-bad-control bochs "$build/test-bochs-selftest-bad-control.iso" corei7_skylake_x
check bochs-vmx-bad-control.names_error in_log bochs-vmx-bad-control "hv: vm0: hypervisor error: vcpu0: VM entry failed: VM-instruction error 7 (VM entry with invalid control field(s))"
check bochs-vmx-bad-control.other_vm_ran in_log bochs-vmx-bad-control "hv: vm1: exited: vcpu0 wrote status 0"
scenario bochs-vmx-bad-input bochs "$build/test-bochs-bad-input.iso" corei7_skylake_x
bad_input_checks bochs-vmx-bad-input

echo
if [ "$fail" != 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failed[@]}"
	for r in "${failed_runs[@]:0:3}"; do
		echo "last lines of $logs/$r.log:"
		grep -av '^\[[^]]*\] TEST .* PASS' "$logs/$r.log" | tail -15 | sed 's/^/  | /'
	done
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
