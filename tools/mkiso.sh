#!/bin/sh
# mkiso.sh OUT.iso CONFIG BUILD: a GRUB ISO (BIOS + UEFI) that boots hv.elf
# with the command line and modules a tests/configs/*.cfg file lists.
set -eu
out=$1 cfg=$2 build=$3
dir=$build/iso-$(basename "$cfg" .cfg)
rm -rf "$dir"
mkdir -p "$dir/boot/grub"
cp "$build/hv.elf" "$dir/boot/hv.elf"
{
	echo "set timeout=0"
	echo "set default=0"
	echo 'menuentry "microhv" {'
	grep -v '^#' "$cfg" | while read -r kind rest; do
		case $kind in
		cmdline) echo "  multiboot2 /boot/hv.elf $rest" ;;
		module)
			file=${rest%% *}
			cp "$build/guests/$file" "$dir/boot/$file"
			echo "  module2 /boot/$file ${rest#* }" ;;
		esac
	done
	echo "  boot"
	echo "}"
} > "$dir/boot/grub/grub.cfg"
grub-mkrescue -o "$out" "$dir" >/dev/null 2>&1 || { grub-mkrescue -o "$out" "$dir"; exit 1; }
