#!/bin/sh
# Installs the Debian packages the build and the tests need (as root), or
# prints the one apt-get line to run. Called by `make run` and `make test`.
PKGS="gcc make binutils libc6-dev libcmocka-dev clang libclang-rt-dev python3 qemu-system-x86 ovmf bochs bochsbios vgabios gnu-efi grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q && apt-get install -y -q --no-install-recommends $missing
else
	echo "deps: missing packages; run as root:"
	echo "  apt-get update && apt-get install -y$missing"
	exit 1
fi
