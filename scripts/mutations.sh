#!/usr/bin/env bash
# Mutation score (issue 8; docs/verify.md, "Mutations"; testing.md §8.4):
# build ordo broken on purpose, once per mutation build tag, run the
# `ordo verify` runs most likely to catch each, and print one line per
# mutation (caught by which run and anomaly, or MISSED) and the score.
# The unmutated binary goes through the same runs first, as the control:
# each must pass, or the score means nothing.
#
#   scripts/mutations.sh [control|MUTATION...]     (default: all)
#   MUT_OUT=dir (default verify-out/mutations)  MUT_SEED=N (default: fixed)
#
# One verify at a time (each starts its own 3-node local cluster); a
# mutation's runs stop at the first that catches it. About 10-15 minutes.
set -u
cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=${MUT_OUT:-verify-out/mutations}
SEED=${MUT_SEED:-20240801}
mkdir -p bin "$OUT"

# The runs for each mutation: "label|ordo verify arguments", tried in order.
runs() {
	case $1 in
	mut_skip_read_locks) # reads take no shared lock: lost updates, G-single / G2-item
		echo "list-append|--workload list-append --duration 30s"
		echo "bank|--workload bank --duration 30s" ;;
	mut_skip_span_locks) # scans lock no span: phantoms, both inserts of a g2 pair commit
		echo "g2|--workload g2 --duration 30s" ;;
	mut_ack_before_commit) # commits answered before their Raft entry commits: lost when the leader is cut off or dies
		echo "bank+partition,kill|--workload bank --nemesis partition,kill --nemesis-quiet 3s --duration 45s"
		echo "sets+partition,kill|--workload sets --clients 6 --nemesis partition,kill --nemesis-quiet 3s --duration 45s" ;;
	mut_stale_reads) # no ReadIndex: a deposed leader that has not noticed serves stale reads
		echo "register+zombie|--workload register --clients 12 --nemesis zombie --nemesis-quiet 3s --nemesis-hold 3s --duration 60s"
		echo "register+partition,pause|--workload register --clients 12 --nemesis partition,pause --nemesis-quiet 2s --nemesis-hold 4s --duration 60s" ;;
	mut_early_commit) # the anchor commits before the others prepare: a failed prepare loses half a transaction
		echo "registration+split+partition,kill|--workload registration --split --nemesis partition,kill --nemesis-quiet 3s --duration 45s"
		echo "bank+split+partition,kill|--workload bank --split --nemesis partition,kill --nemesis-quiet 3s --duration 45s" ;;
	esac
}
MUTATIONS="mut_skip_read_locks mut_ack_before_commit mut_stale_reads mut_early_commit mut_skip_span_locks"
WANT=${*:-control $MUTATIONS}

# verify BIN DIR ARGS...: runs one ordo verify; prints PASS, FAIL: <line> or ERROR: <line>.
verify() {
	local bin=$1 dir=$2; shift 2
	rm -rf "$dir"
	# shellcheck disable=SC2068
	"$bin" verify --seed "$SEED" --out "$dir" $@ </dev/null >"$dir.out" 2>"$dir.err"
	local rc=$?
	local failline
	failline=$(grep -m1 '^FAIL:' "$dir.out")
	if [ -n "$failline" ]; then
		echo "FAIL: $(echo "$failline" | sed -E 's/^FAIL: //' | cut -c1-400)"
	elif [ $rc -eq 0 ]; then
		echo PASS
	else
		echo "ERROR: $(tail -n 3 "$dir.err" "$dir.out" | grep -v '^==>' | tr '\n' ' ' | cut -c1-300)"
	fi
}

summary=()
caught=0
injected=0
for m in $WANT; do
	if [ "$m" = control ]; then
		$GO build -o bin/ordo-mut-control ./cmd/ordo || exit 1
		ok=1
		for mm in $MUTATIONS; do
			while IFS='|' read -r label args; do
				res=$(verify bin/ordo-mut-control "$OUT/control-$mm-${label//[^a-z0-9+-]/_}" $args)
				echo "control ($mm's run) $label: $res"
				case $res in PASS) ;; *) ok=0 ;; esac
			done < <(runs "$mm")
		done
		if [ $ok = 1 ]; then summary+=("control: every run passes unmutated"); else summary+=("control: FAILED (see above): the score below means nothing"); fi
		continue
	fi
	$GO build -tags "$m" -o "bin/ordo-mut-$m" ./cmd/ordo || exit 1
	injected=$((injected + 1))
	line="$m: MISSED"
	while IFS='|' read -r label args; do
		res=$(verify "bin/ordo-mut-$m" "$OUT/$m-${label//[^a-z0-9+-]/_}" $args)
		echo "$m $label: $res"
		case $res in
		FAIL:*) # the workload and the checker's verdict, without the figures
			line="$m: caught by $label: $(echo "${res#FAIL: }" | sed -E 's/^([^:]+):.*; ([^;]*\([a-z ]+\)); seed.*/\1: \2/')"
			caught=$((caught + 1))
			break ;;
		esac
	done < <(runs "$m")
	summary+=("$line")
done
echo
echo "== mutations (seed $SEED, results in $OUT)"
for l in "${summary[@]}"; do echo "$l"; done
if [ $injected -gt 0 ]; then
	echo "score: $caught/$injected caught ($((100 * caught / injected))%)"
	[ $caught -eq $injected ] || exit 1
fi
