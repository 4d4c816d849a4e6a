#!/usr/bin/env python3
"""Checks docs/bad-input.md: every table row names a test, and every unit
test it names (`test_X.c: fn, fn; ...`) exists in tests/unit/test_X.c.
Prints the row count; exits 1 on a row without a test or a test not found."""
import re, sys, os

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
doc = open(os.path.join(root, 'docs/bad-input.md')).read()
bad = 0
rows = 0
for line in doc.splitlines():
    m = re.match(r'^\| (\d+\.\d+) \|', line)
    if not m:
        continue
    rows += 1
    test = line.split('|')[6].strip()
    if not test or 'GAP' in test:
        print(f'row {m.group(1)}: no test'); bad += 1; continue
    for part in test.split(';'):
        u = re.match(r'\s*(test_\w+\.c): (.*)', part)
        if not u:
            continue
        src = open(os.path.join(root, 'tests/unit', u.group(1))).read()
        for fn in re.findall(r'\b(test_\w+)', u.group(2)):
            if not re.search(r'\bstatic void ' + fn + r'\(', src):
                print(f'row {m.group(1)}: {u.group(1)}: {fn} not found'); bad += 1
print(f'{rows} rows')
sys.exit(1 if bad or not rows else 0)
