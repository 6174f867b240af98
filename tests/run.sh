#!/usr/bin/env bash
# The whole suite: unit programs, then end-to-end tests over a private
# Dovecot + Postfix.  Ends with one "N passed, N failed" line.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
pass=0 fail=0
start=$SECONDS

tally() {	# read a "N passed, N failed" line from a log
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "not ok - $2 printed no summary (crashed?)"
		fail=$((fail + 1))
		return
	fi
	pass=$((pass + $(echo "$line" | cut -d' ' -f1)))
	fail=$((fail + $(echo "$line" | cut -d' ' -f3)))
}

log=$(mktemp)
for t in "$BUILD"/t_*; do
	[ -x "$t" ] || continue
	echo "# unit: $t"
	"$t" >"$log" 2>&1

	grep -v '^ok - ' "$log"
	tally "$log" "$t"
done

echo "# manuals and install"
python3 tests/docs.py 2>&1 | tee "$log"
tally "$log" "tests/docs.py"

# The corpora run mentorctl, one thread, a process a message: nothing for
# ThreadSanitizer to see, and the plain and ASan runs check them.
if [ "${TSAN:-}" = 1 ]; then
	echo "# corpora: not run under TSan (single-threaded programs; the plain and ASan runs check them)"
else
	echo "# corpora (reply extraction, bounces, auto-replies, screening)"
	python3 tests/corpus/run.py 2>&1 | tee "$log"
	tally "$log" "tests/corpus/run.py"
fi

echo "# units, manuals and corpora took $((SECONDS - start)) s"
echo "# end-to-end (real Dovecot and Postfix on 127.0.0.1)"
python3 tests/e2e/run.py "$@" 2>&1 | tee "$log"
tally "$log" "tests/e2e/run.py"
rm -f "$log"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
