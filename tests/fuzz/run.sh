#!/bin/bash
# Runs each libFuzzer harness for SECONDS from its seed corpus and prints,
# per harness, the executions and the findings (crash, leak, timeout or
# out-of-memory inputs). Usage: run.sh BUILD SECONDS NAME...
# The seeds (tests/fuzz/corpus/NAME) are read, never written: new inputs
# go to BUILD/fuzz/corpus/NAME, findings to BUILD/fuzz/findings/NAME-*.
# Exit status: 0 when no harness found anything.
set -u
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
total=0
for name in "$@"; do
	bin=$build/fuzz/bin/fuzz_$name
	work=$build/fuzz/corpus/$name
	found=$build/fuzz/findings
	mkdir -p "$work" "$found"
	rm -f "$found/$name-"*
	log=$build/fuzz/$name.log
	# -timeout: an input that runs for 10 s is a hang; -rss_limit_mb: a leak or runaway
	# allocation; the outer timeout keeps a wedged run from holding up a test run
	timeout $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$found/$name-" "$work" "$here/corpus/$name" \
		>"$log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
	findings=$(find "$found" -name "$name-*" | wc -l)
	if [ "$findings" = 0 ] && [ "$status" != 0 ]; then
		findings=1          # stopped without leaving an input: still a finding
	fi
	echo "fuzz $name: ${execs:-0} execs in ${seconds}s, ${cov:-cov: ?} edges, $findings findings"
	if [ "$findings" != 0 ]; then
		grep -E "^fuzz: |ERROR: |SUMMARY: " "$log" | head -5 | sed 's/^/    /'
		find "$found" -name "$name-*" | sed 's/^/    input: /'
	fi
	total=$((total + findings))
done
echo "fuzz: $total findings"
[ "$total" = 0 ]
