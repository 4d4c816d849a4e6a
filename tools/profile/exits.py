#!/usr/bin/env python3
"""make profile (tools/profile/profile.sh): what the hypervisor executes per exit.

exits.py exits HV_ELF GUEST_ELF TRACE [KIND [lines]]
    TRACE: itrace.c's addresses. Cut at the hypervisor's VMRUN: an exit is
    every instruction from the one after VMRUN to the next VMRUN. Exits are
    grouped by the guest instruction that caused them (the last guest address
    before the exit). Prints each kind's count and median length; for KIND (a
    guest address, or a guest symbol the exiting instruction is in) the
    median exit of that kind by hypervisor function, or by source line.
exits.py boot HV_ELF HIST
    HIST: itrace.c's "address count" lines (hist=1): instructions per function.
"""
import bisect
import collections
import struct
import subprocess
import sys


def symbols(elf):
    """(address, name) of the functions in elf, sorted."""
    out = subprocess.run(["nm", "-n", elf], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tTwWrRbBdD":
            syms.append((int(p[0], 16), p[2]))
    return syms


class Names:
    def __init__(self, elf):
        self.syms = symbols(elf)
        self.addrs = [a for a, _ in self.syms]

    def __call__(self, pc):
        i = bisect.bisect_right(self.addrs, pc) - 1
        return self.syms[i][1] if i >= 0 else "?"


def vmrun_address(elf):
    out = subprocess.run(["objdump", "-d", elf], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "\tvmrun" in line or " vmrun " in line:
            return int(line.split(":")[0], 16)
    sys.exit("exits.py: no VMRUN in " + elf)


def exits(trace, vmrun):
    data = open(trace, "rb").read()
    pcs = struct.unpack("<%dQ" % (len(data) // 8), data)
    after, cur, last_guest, out = vmrun + 3, None, None, []
    for pc in pcs:
        if pc == after:
            cur = [pc]
        elif cur is not None:
            cur.append(pc)
            if pc == vmrun:
                out.append((last_guest, cur))
                cur = None
        else:
            last_guest = pc
    return out


def by_line(elf, pcs, lines):
    """address -> its function (inlined ones by their own name, from the debug info), with file:line if lines."""
    uniq = sorted(set(pcs))
    out = subprocess.run(["addr2line", "-f", "-e", elf] + ["%x" % p for p in uniq],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    where = {}
    for i, p in enumerate(uniq):
        loc = out[2 * i + 1].split(" ")[0]
        for top in ("/arch/", "/core/", "/hypercalls/", "/boot/"):
            if top in loc:
                loc = top[1:] + loc.split(top, 1)[1]
        where[p] = "%s %s" % (loc, out[2 * i]) if lines else out[2 * i]
    return where


def cmd_exits(hv, guest, trace, kind=None, lines=False):
    guest_names = Names(guest)
    groups = collections.defaultdict(list)
    for g, c in exits(trace, vmrun_address(hv)):
        groups[g].append(c)
    print("%-10s %-28s %6s %7s %7s %7s" % ("guest pc", "in", "exits", "median", "min", "max"))
    for g, cs in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:16]:
        n = sorted(len(c) for c in cs)
        print("%-10s %-28s %6d %7d %7d %7d" % ("%x" % g if g else "-", guest_names(g) if g else "-",
                                            len(cs), n[len(n) // 2], n[0], n[-1]))
    if kind is None:
        return
    want = [g for g in groups if g is not None and ("%x" % g == kind.lower().removeprefix("0x") or
                                                    guest_names(g) == kind)]
    if not want:
        sys.exit("exits.py: no exit from %s" % kind)
    cs = sorted((c for g in want for c in groups[g]), key=len)
    med = cs[len(cs) // 2]
    name = by_line(hv, med, lines)
    count = collections.Counter(name[p] for p in med)
    print("\nthe median exit from %s: %d instructions" % (kind, len(med)))
    for k, n in count.most_common(40):
        print("%6d  %s" % (n, k))


def cmd_boot(hv, hist):
    names, count, total = Names(hv), collections.Counter(), 0
    for line in open(hist):
        pc, n = line.split()
        if pc == "dropped":
            print("(%s addresses not counted: the table was full)" % n)
            continue
        count[names(int(pc, 16))] += int(n)
        total += int(n)
    print("%d instructions from hv_main to the first VMRUN" % total)
    for k, n in count.most_common(25):
        print("%12d  %s" % (n, k))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "exits":
        cmd_exits(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None,
                  len(sys.argv) > 6 and sys.argv[6] == "lines")
    elif len(sys.argv) == 4 and sys.argv[1] == "boot":
        cmd_boot(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
