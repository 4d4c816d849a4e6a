#!/bin/sh
# Lays out an EFI system partition directory that boots hv.efi:
#   DIR/EFI/BOOT/BOOTX64.EFI   (the removable-media path firmware boots by itself)
#   DIR/hv.cfg                 (CFG_TEXT: hv.efi's command line when it gets no load options)
#   DIR/guests/<basename>      (each GUEST, to be named guest=/guests/<basename> in CFG_TEXT)
# Use the directory with QEMU as -drive format=raw,file=fat:rw:DIR.
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 DIR HV_EFI CFG_TEXT [GUEST...]" >&2
	exit 2
fi
dir=$1 hv_efi=$2 cfg=$3
shift 3

# Only what this script creates is replaced: a stale guest must not linger.
rm -rf "$dir/guests"
mkdir -p "$dir/EFI/BOOT" "$dir/guests"
cp "$hv_efi" "$dir/EFI/BOOT/BOOTX64.EFI"
printf '%s\n' "$cfg" > "$dir/hv.cfg"
for guest in "$@"; do
	cp "$guest" "$dir/guests/$(basename "$guest")"
done
