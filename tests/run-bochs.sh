#!/bin/bash
# run-bochs.sh MODEL IMAGE [LOG]: boots a GRUB ISO (built with exit=bochs) in
# Bochs with CPU model MODEL (corei7_skylake_x, tigerlake: VMX+EPT; ryzen:
# SVM+NPT with NRIPS). Bochs exits 1 whatever happened, so the serial log is
# the verdict: exits 0 only when the hypervisor reported every VM succeeded
# and no guest printed a failing TEST line. Never runs longer than RUN_TIMEOUT.
set -u
model=$1 image=$2 log=${3:-}
timeout=${RUN_TIMEOUT:-90}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$log" ] || log=$tmp/serial.log
cp "$image" "$tmp/hv.iso"
# Paths stay relative (run from $tmp); without a sound card Bochs 2.7 aborts
# at start unless its sound drivers are the dummy ones.
cat > "$tmp/bochsrc" <<EOR
megs: 128
cpu: model=$model, count=1, ips=100000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
display_library: rfb, options="timeout=0"
ata0-master: type=cdrom, path=hv.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=com1.out
log: bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
port_e9_hack: enabled=1
clock: sync=none, time0=1
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
EOR
printf 'c\nquit\n' > "$tmp/cont.rc"
(cd "$tmp" && timeout -k 5 "$timeout" bochs-bin -q -f bochsrc -rc cont.rc </dev/null >bochs.out 2>&1)
status=$?
tr -d '\r' < "$tmp/com1.out" > "$log" 2>/dev/null
cat "$log"; echo
[ -n "${BOCHS_LOG_DIR:-}" ] && cp "$tmp/bochs.log" "$BOCHS_LOG_DIR/bochs-internal-$model.log"
if [ $status = 124 ]; then
	echo "run-bochs.sh: $model: FAILED: timed out after ${timeout}s"
	exit 1
fi
if grep -q '^hv: stopping the machine (status 0)' "$log" && ! grep -q '^\[[^]]*\] TEST .* FAIL' "$log"; then
	echo "run-bochs.sh: $model: all VMs succeeded"
	exit 0
fi
if grep -q '^hv: stopping the machine' "$log"; then
	echo "run-bochs.sh: $model: FAILED: the hypervisor reported a failed VM"
else
	echo "run-bochs.sh: $model: FAILED: the hypervisor did not stop cleanly"
fi
exit 1
