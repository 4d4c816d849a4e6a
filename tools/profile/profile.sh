#!/bin/bash
# tools/profile/profile.sh BUILD [KIND [lines]]   (make profile PROFILE="KIND [lines]")
# tools/profile/profile.sh BUILD boot
# What the hypervisor executes, instruction by instruction, under QEMU
# -icount with our TCG plugin (itrace.c), for docs/performance.md. The
# benchmark image (bench/bench.cfg) runs; from the benchmark guest's first
# measurement on, every executed address is recorded and exits.py lists the
# exit kinds by the guest instruction that caused them, and for KIND (a
# guest symbol such as insn_cpuid or stub_io, or an address) the median
# exit per hypervisor function or source line. "boot": instructions per
# function from hv_main to the first VMRUN. Not part of make test.
set -eu
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/profile"
gcc -O2 -Wall -Wextra -shared -fPIC -o "$build/profile/libitrace.so" "$here/itrace.c"
hv=$build/hv.elf guest=$build/guests/test-guest64.elf
addr() { nm "$1" | awk -v s="$2" '$3 == s { print "0x" $1; exit }'; }
pre=$(addr "$hv" hv_main)
if [ "${1:-}" = boot ]; then
	vmrun=0x$(objdump -d "$hv" | awk '/\tvmrun/ { sub(":", "", $1); print $1; exit }')
	args="pre=$pre,arm=$pre,after=1,stop=$vmrun,limit=400000000,hist=1,out=$build/profile/boot.hist"
else
	args="pre=$pre,arm=$(addr "$guest" bench),after=1,limit=3000000,out=$build/profile/trace.bin"
fi
timeout 600 qemu-system-x86_64 -cpu max -m 256 -display none -serial "file:$build/profile/serial.log" \
	-monitor none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -M pc -cdrom "$build/bench.iso" \
	-icount shift=0,align=off,sleep=off -plugin "$build/profile/libitrace.so,$args" </dev/null >/dev/null 2>&1 || true
if [ "${1:-}" = boot ]; then
	python3 "$here/exits.py" boot "$hv" "$build/profile/boot.hist"
else
	python3 "$here/exits.py" exits "$hv" "$guest" "$build/profile/trace.bin" "$@"
fi
