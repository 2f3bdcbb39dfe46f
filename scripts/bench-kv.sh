#!/usr/bin/env bash
# KV throughput and latency of a 3-node ordo cluster next to a 3-member etcd
# cluster, on this machine, in one run (make bench-kv).
#
#   scripts/bench-kv.sh [--json FILE] [--profile DIR]
#
# Both clusters run on 127.0.0.1 with their stores in one temp dir on the same
# disk; etcd keeps its default durability (fsync on). The same load generator
# (scripts/kvbench) drives both with the same clients, keys and values. For
# each workload (put and get at 1 and BENCH_CLIENTS clients) it runs ordo and
# etcd back to back, alternating which goes first so drift hits both alike.
# --profile DIR also takes a CPU profile of every ordo node during the
# many-client ordo runs (DIR/ordo-{put,get}-nN.pprof) and, where perf can
# read syscall tracepoints, counts each node's fdatasync/fsync/write/read
# calls in the many-client runs of both targets (DIR/{ordo,etcd}-OP-nN.perf).
#
# Environment: BENCH_DURATION (10s), BENCH_WARMUP (3s), BENCH_CLIENTS (16),
# BENCH_VALUE_SIZE (256), BENCH_KEYS (10000), BENCH_TMPDIR (where the stores
# go; must be a real disk, not tmpfs), ORDO (default bin/ordo), ETCD (default
# etcd on PATH, else /usr/bin/etcd). Durations are whole seconds ("10s").
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

JSON_OUT=""
PROFILE_DIR=""
while [ $# -gt 0 ]; do
	case "$1" in
	--json) JSON_OUT=$2; shift 2 ;;
	--json=*) JSON_OUT=${1#--json=}; shift ;;
	--profile) PROFILE_DIR=$2; shift 2 ;;
	--profile=*) PROFILE_DIR=${1#--profile=}; shift ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "bench-kv: unknown argument $1" >&2; exit 2 ;;
	esac
done

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
CLIENTS=${BENCH_CLIENTS:-16}
VALUE_SIZE=${BENCH_VALUE_SIZE:-256}
KEYS=${BENCH_KEYS:-10000}
ORDO=${ORDO:-$ROOT/bin/ordo}
ETCD=${ETCD:-$(command -v etcd || echo /usr/bin/etcd)}

[ -x "$ORDO" ] || { echo "bench-kv: $ORDO missing: run make build" >&2; exit 1; }
[ -x "$ETCD" ] || { echo "bench-kv: no etcd binary (apt-get install etcd-server)" >&2; exit 1; }

TMP=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/bench-kv.XXXXXX")
PIDS=() PROF_PIDS=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local pid
	for pid in "${PROF_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in $(seq 50); do
		local alive=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.2
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ $rc != 0 ]; then
		echo "bench-kv: failed (exit $rc); last lines of the logs:" >&2
		for f in "$TMP"/*.log; do
			[ -f "$f" ] && { echo "== $f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(stat -f -c %T "$TMP")" = tmpfs ]; then
	echo "bench-kv: warning: $TMP is on tmpfs, fsync is free there; set BENCH_TMPDIR to a real disk" >&2
fi

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			case " ${USED_PORTS:-} " in *" $p "*) continue ;; esac
			USED_PORTS="${USED_PORTS:-} $p"
			echo "$p"
			return
		fi
	done
}

echo "bench-kv: building kvbench"
# -mod=mod: add go.sum entries for whatever the main module newly requires.
(cd scripts/kvbench && go build -mod=mod -o "$TMP/kvbench" .)
KVBENCH=$TMP/kvbench

# --- ordo: 3 nodes, then init ---
ORDO_ADDRS=() ORDO_HTTP=()
for i in 1 2 3; do
	ORDO_ADDRS+=("127.0.0.1:$(free_port)")
	ORDO_HTTP+=("127.0.0.1:$(free_port)")
done
JOIN=$(IFS=,; echo "${ORDO_ADDRS[*]}")
for i in 0 1 2; do
	n=$((i + 1))
	"$ORDO" start --store "$TMP/ordo$n" --listen-addr "${ORDO_ADDRS[$i]}" \
		--http-addr "${ORDO_HTTP[$i]}" --join "$JOIN" --log-level warn \
		>"$TMP/ordo$n.log" 2>&1 &
	PIDS+=($!)
	ORDO_PIDS[$i]=$!
done

# --- etcd: 3 members ---
ETCD_CLIENT=() ETCD_PEER=()
for i in 1 2 3; do
	ETCD_CLIENT+=("127.0.0.1:$(free_port)")
	ETCD_PEER+=("127.0.0.1:$(free_port)")
done
INITIAL=""
for i in 0 1 2; do INITIAL+="${INITIAL:+,}e$((i + 1))=http://${ETCD_PEER[$i]}"; done
for i in 0 1 2; do
	n=$((i + 1))
	"$ETCD" --name "e$n" --data-dir "$TMP/etcd$n" \
		--listen-client-urls "http://${ETCD_CLIENT[$i]}" --advertise-client-urls "http://${ETCD_CLIENT[$i]}" \
		--listen-peer-urls "http://${ETCD_PEER[$i]}" --initial-advertise-peer-urls "http://${ETCD_PEER[$i]}" \
		--initial-cluster "$INITIAL" --initial-cluster-state new --initial-cluster-token kvbench \
		--logger zap --log-level warn >"$TMP/etcd$n.log" 2>&1 &
	PIDS+=($!)
	ETCD_PIDS[$i]=$!
done
ETCD_EPS=$(IFS=,; echo "${ETCD_CLIENT[*]}")

# Give the ordo nodes a moment to listen, then bootstrap.
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/${ORDO_ADDRS[0]%:*}/${ORDO_ADDRS[0]#*:}") 2>/dev/null && break
	sleep 0.1
done
"$ORDO" init --host "${ORDO_ADDRS[0]}" --timeout 60s >"$TMP/init.log" 2>&1
for i in 0 1 2; do
	for try in $(seq 150); do
		curl -fsS "http://${ORDO_HTTP[$i]}/health" >/dev/null 2>&1 && break
		[ "$try" = 150 ] && { echo "bench-kv: ordo node $((i + 1)) never became healthy" >&2; exit 1; }
		sleep 0.2
	done
done

COMMON=(--keys "$KEYS" --value-size "$VALUE_SIZE")
ORDO_T=(--target ordo --endpoints "$JOIN")
ETCD_T=(--target etcd --endpoints "$ETCD_EPS")

echo "bench-kv: pre-loading $KEYS keys of $VALUE_SIZE bytes into each cluster"
"$KVBENCH" "${ORDO_T[@]}" "${COMMON[@]}" --preload-only --clients 16
"$KVBENCH" "${ETCD_T[@]}" "${COMMON[@]}" --preload-only --clients 16

RESULTS=$TMP/results.jsonl
: >"$RESULTS"

# profile_ordo NAME: CPU profiles of every ordo node for the measured window.
profile_ordo() {
	local name=$1 secs i
	secs=$(( ${DURATION%s} > 1 ? ${DURATION%s} - 1 : 1 ))
	mkdir -p "$PROFILE_DIR"
	for i in 0 1 2; do
		(sleep "${WARMUP%s}"; curl -fsS -o "$PROFILE_DIR/ordo-$name-n$((i + 1)).pprof" \
			"http://${ORDO_HTTP[$i]}/debug/pprof/profile?seconds=$secs" || true) &
		PROF_PIDS+=($!)
	done
}

# count_syscalls TARGET OP: per-node syscall counts over the measured window.
PERF_EVENTS=syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_write,syscalls:sys_enter_read
PERF_OK=0
if [ -n "$PROFILE_DIR" ] && command -v perf >/dev/null &&
	perf stat -e "$PERF_EVENTS" -a -o /dev/null -- true >/dev/null 2>&1; then
	PERF_OK=1
fi
count_syscalls() {
	local t=$1 op=$2 i pid
	local -a pids
	if [ "$t" = ordo ]; then pids=("${ORDO_PIDS[@]}"); else pids=("${ETCD_PIDS[@]}"); fi
	mkdir -p "$PROFILE_DIR"
	for i in 0 1 2; do
		pid=${pids[$i]}
		(sleep "${WARMUP%s}"; perf stat -x, -e "$PERF_EVENTS" -p "$pid" -o "$PROFILE_DIR/$t-$op-n$((i + 1)).perf" \
			-- sleep "${DURATION%s}" >/dev/null 2>&1 || true) &
		PROF_PIDS+=($!)
	done
}

run_one() { # target op clients
	local t=$1 op=$2 c=$3
	local tflags pid
	PROF_PIDS=()
	if [ "$t" = ordo ]; then tflags=("${ORDO_T[@]}"); else tflags=("${ETCD_T[@]}"); fi
	if [ "$t" = ordo ] && [ -n "$PROFILE_DIR" ] && [ "$c" -gt 1 ]; then profile_ordo "$op"; fi
	if [ $PERF_OK = 1 ] && [ "$c" -gt 1 ]; then count_syscalls "$t" "$op"; fi
	"$KVBENCH" "${tflags[@]}" "${COMMON[@]}" --preload=false --op "$op" --clients "$c" \
		--duration "$DURATION" --warmup "$WARMUP" --json | tee -a "$RESULTS" |
		sed "s/^/bench-kv: /" >&2
	for pid in "${PROF_PIDS[@]}"; do wait "$pid" || true; done
}

k=0
for w in "put 1" "put $CLIENTS" "get 1" "get $CLIENTS"; do
	set -- $w
	if [ $((k % 2)) = 0 ]; then order="ordo etcd"; else order="etcd ordo"; fi
	for t in $order; do
		echo "bench-kv: $t $1 at $2 client(s): ${WARMUP} warm-up, ${DURATION}" >&2
		run_one "$t" "$1" "$2"
	done
	k=$((k + 1))
done

echo
echo "ordo (3 nodes) vs etcd $("$ETCD" --version | sed -n 's/^etcd Version: //p') (3 members), loopback, $(nproc) cores;" \
	"value $VALUE_SIZE B, $KEYS keys, ${DURATION} per run; linearizable gets on both"
if [ -n "$JSON_OUT" ]; then
	"$KVBENCH" report --json "$JSON_OUT" "$RESULTS"
	echo "bench-kv: figures written to $JSON_OUT"
else
	"$KVBENCH" report "$RESULTS"
fi
if [ -n "$PROFILE_DIR" ]; then
	echo
	echo "CPU profiles in $PROFILE_DIR (go tool pprof -top FILE)"
	if [ $PERF_OK = 1 ]; then
		echo "syscalls per second over the measured window of the $CLIENTS-client runs:"
		printf '%-6s %-4s %-4s %10s %8s %10s %10s\n' target op node fdatasync fsync write read
		secs=${DURATION%s}
		for f in "$PROFILE_DIR"/*.perf; do
			[ -f "$f" ] || continue
			b=$(basename "$f" .perf)
			IFS=- read -r t op node <<<"$b"
			awk -F, -v t="$t" -v op="$op" -v node="$node" -v secs="$secs" '
				/sys_enter_fdatasync/ { fd = $1 } /sys_enter_fsync/ { fs = $1 }
				/sys_enter_write/ { w = $1 } /sys_enter_read/ { r = $1 }
				END { printf "%-6s %-4s %-4s %10.0f %8.0f %10.0f %10.0f\n", t, op, node, fd/secs, fs/secs, w/secs, r/secs }' "$f"
		done
	fi
fi
