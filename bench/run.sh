#!/bin/bash
# bench/run.sh BUILD: make bench (docs/performance.md). Boots bench/bench.cfg
# under QEMU with -icount shift=0,align=off,sleep=off (the SVM path), where
# RDTSC counts executed instructions, and prints the median round trip of
# each call (tests/guests/bench.c), the boot cost, the image size and the
# source lines per top-level folder. Writes bench/results/latest.csv and
# bench/results/latest.svg (a bar chart). Not part of make test.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
mkdir -p "$out" "$build/bench"
qlog=$build/bench/qemu-svm.log blog=$build/bench/bochs-vmx.log
timeout 300 qemu-system-x86_64 -cpu max -m 256 -display none -serial "file:$qlog" -monitor none -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -M pc -cdrom "$build/bench.iso" \
	-icount shift=0,align=off,sleep=off </dev/null >/dev/null 2>&1
RUN_TIMEOUT=600 "$here/../tests/run-bochs.sh" corei7_skylake_x "$build/bench-bochs.iso" "$blog" >/dev/null 2>&1
for log in "$qlog" "$blog"; do
	if ! grep -qa "hv: 3 of 3 VMs succeeded" "$log"; then
		echo "bench: the benchmark VMs did not all succeed (log: $log)"
		exit 1
	fi
done
csv=$out/latest.csv
echo "path,figure,instructions" > "$csv"
# each BENCH line: [vm] BENCH name median min max (the exits are measured in every VM: keep the KVM VM's)
for path in qemu-svm bochs-vmx; do
	log=$qlog
	[ $path = bochs-vmx ] && log=$blog
	grep -a "^\[[a-z0-9]*\] BENCH [a-z]" "$log" | grep -v " start " | while read -r vm _ name median _; do
		case $name in exit.*|guest.*) [ "$vm" = "[kvm64]" ] || continue ;; esac
		case $median in *[!0-9]*) continue ;; esac
		echo "$path,$name,$median"
	done
	boot=$(grep -aoE "hv: boot: [0-9]+" "$log" | grep -oE "[0-9]+$")
	echo "$path,boot.hv_main_to_first_vm_entry,$boot"
done >> "$csv"
size=$(stat -c %s "$build/hv.elf")
read -r text data bss _ < <(size "$build/hv.elf" | tail -1)
echo "image,hv.elf_file_bytes,$size" >> "$csv"
echo "image,hv.elf_loaded_bytes(text+data+bss),$((text + data + bss))" >> "$csv"
# non-blank lines of C, assembly, headers, shell, Python and linker scripts
for d in boot core arch hypercalls tests tools bench; do
	n=$(find "$here/../$d" \( -name '*.[chS]' -o -name '*.sh' -o -name '*.py' -o -name '*.ld' \) -print0 |
		xargs -0 cat | grep -cvE '^\s*$')
	echo "sloc,$d,$n" >> "$csv"
done
printf "%-10s %-44s %12s\n" path figure value
tail -n +2 "$csv" | while IFS=, read -r p f v; do printf "%-10s %-44s %12s\n" "$p" "$f" "$v"; done
# the chart: one bar per round trip
{
	rows=$(grep -c "^qemu-svm,[a-z]*\.[a-z]" "$csv")
	h=$((rows * 22 + 40))
	echo "<svg xmlns='http://www.w3.org/2000/svg' width='760' height='$h' font-family='monospace' font-size='12'>"
	echo "<text x='10' y='18'>round trips, instructions (QEMU -icount, SVM path)</text>"
	max=$(grep "^qemu-svm," "$csv" | grep -v boot | cut -d, -f3 | sort -n | tail -1)
	y=30
	grep "^qemu-svm," "$csv" | grep -v boot | while IFS=, read -r _ f v; do
		w=$((v * 420 / max))
		echo "<text x='10' y='$((y + 13))'>$f</text><rect x='260' y='$y' width='$w' height='16' fill='#4a7'/><text x='$((265 + w))' y='$((y + 13))'>$v</text>"
		y=$((y + 22))
	done
	echo "</svg>"
} > "$out/latest.svg"
echo "bench: wrote $csv and $out/latest.svg"
