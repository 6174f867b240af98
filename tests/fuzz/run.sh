#!/usr/bin/env bash
# Run each libFuzzer target for FUZZ_SECONDS.  Seeds: tests/fuzz/seeds and,
# when the corpora sit beside the clone, their messages (copied into the
# build directory, never into the tree).  Exit non-zero on any finding; the
# crashing input is left in BUILD/fuzz-findings.
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
SHARED=${MENTORGATE_SHARED:-../shared}
status=0

seed() {	# seed DIR SRC...: copy regular files up to 256 KiB
	local dir=$1; shift
	mkdir -p "$dir"
	for src in "$@"; do
		[ -d "$src" ] || continue
		find "$src" -type f \( -name '*.eml' -o -name '*.txt' \) -size -256k -print0 |
		while IFS= read -r -d '' f; do
			cp "$f" "$dir/$(echo "$f" | md5sum | cut -c1-16)"
		done
	done
}

seed "$BUILD/seeds-mime" tests/fuzz/seeds/mime "$SHARED/corpora/mime" "$SHARED/corpora/reply"
seed "$BUILD/seeds-reply" tests/fuzz/seeds/reply "$SHARED/corpora/reply"
seed "$BUILD/seeds-screen" tests/fuzz/seeds/reply "$SHARED/corpora/safeguard"
# what strangers control, seeded from tests/fuzz/seeds/<target> alone
for t in prefilter authres bounce moderate survey roster conf; do
	mkdir -p "$BUILD/seeds-$t" && cp tests/fuzz/seeds/$t/* "$BUILD/seeds-$t/"
done
[ -d "$SHARED/corpora" ] || echo "# $SHARED/corpora not present: seeding from tests/fuzz/seeds only"
mkdir -p "$BUILD/fuzz-findings"
for t in mime reply screen prefilter authres bounce moderate survey roster conf; do
	mkdir -p "$BUILD/corpus-$t"
	echo "# fuzz_$t: ${SECONDS_EACH}s, $(ls "$BUILD/seeds-$t" | wc -l) seeds"
	if ! "$BUILD/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=262144 -print_final_stats=1 -artifact_prefix="$BUILD/fuzz-findings/$t-" \
	    "$BUILD/corpus-$t" "$BUILD/seeds-$t" >"$BUILD/fuzz-$t.log" 2>&1; then
		echo "not ok - fuzz_$t found a problem:"
		grep -E 'ERROR|SUMMARY|Test unit written' "$BUILD/fuzz-$t.log" | head -20
		status=1
	else
		echo "ok - fuzz_$t: $(grep -E '^stat::number_of_executed_units' "$BUILD/fuzz-$t.log" | awk '{print $2}') runs, no finding"
	fi
done
exit $status
