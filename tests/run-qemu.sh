#!/bin/bash
# run-qemu.sh MODE IMAGE [LOG] [CPU]
#   MODE  bios  the GRUB ISO through SeaBIOS (multiboot2)
#         uefi  the GRUB ISO through OVMF (GRUB-EFI, multiboot2)
#         esp   an ESP directory through OVMF (hv.efi, the gnu-efi entry)
#   CPU   QEMU -cpu model (default max: SVM with nested paging, no NRIPS)
# Prints the serial console and exits 0 only when the hypervisor reported
# through isa-debug-exit that every VM succeeded (QEMU status 33) and no
# guest printed a failing TEST line. Never runs longer than RUN_TIMEOUT.
set -u
mode=$1 image=$2 log=${3:-} cpu=${4:-max}
timeout=${RUN_TIMEOUT:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$log" ] || log=$tmp/serial.log

common=(-cpu "$cpu" -m 256 -display none -serial "file:$log" -monitor none -no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=0x04)
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
case $mode in
bios) args=(-M pc -cdrom "$image") ;;
uefi|esp)
	cp "$ovmf_vars" "$tmp/vars.fd"
	args=(-M q35 -net none
		-drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
		-drive "if=pflash,format=raw,file=$tmp/vars.fd")
	if [ "$mode" = uefi ]; then
		args+=(-cdrom "$image")
	else
		# a private copy: QEMU's vvfat may write to the directory
		cp -r "$image" "$tmp/esp"
		args+=(-drive "format=raw,file=fat:rw:$tmp/esp")
	fi ;;
*) echo "run-qemu.sh: unknown mode $mode" >&2; exit 2 ;;
esac

: > "$log"
timeout --foreground -k 5 "$timeout" qemu-system-x86_64 "${args[@]}" "${common[@]}" </dev/null
status=$?
# the serial console sends CRLF; keep the log in plain lines
tr -d '\r' < "$log" > "$tmp/clean.log" && cat "$tmp/clean.log" > "$log"
cat "$log"
case $status in
33) result="all VMs succeeded" ;;
35) result="the hypervisor reported a failed VM" ;;
124) result="timed out after ${timeout}s" ;;
*) result="QEMU exited with status $status" ;;
esac
if [ $status = 33 ] && ! grep -q '^\[[^]]*\] TEST .* FAIL' "$log"; then
	echo "run-qemu.sh: $mode: $result"
	exit 0
fi
echo "run-qemu.sh: $mode: FAILED: $result"
exit 1
