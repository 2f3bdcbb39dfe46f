#!/usr/bin/env bash
# Issue 9's figures in one run on this machine (make bench): SQL workloads
# against PostgreSQL 15, a 3-node ordo cluster (RF 3) and a 1-node ordo; KV
# put and linearizable get against the same 3-node ordo and a 3-member etcd;
# and ordo's write throughput on a table of 4 ranges against 1 range.
#
#   scripts/bench.sh [--json FILE]
#
# Everything listens on 127.0.0.1 and keeps its data in one temp dir on the
# same disk. PostgreSQL keeps its default durability (fsync on,
# synchronous_commit on, full_page_writes on); so does etcd (Debian's
# etcd-server). The SQL load generator is ordo bench (pgx) for every target,
# the KV one scripts/kvbench for both ordo and etcd, with the same clients.
# For each workload the targets take turns, rotating who goes first, so
# drift hits all alike. The ordo-3 SQL clients are spread over the 3 nodes.
#
#   tpcb-c8, tpcb-c32  pgbench's TPC-B-like transaction, scale BENCH_SCALE, -c 8 and -c 32
#   select-only        pgbench -S: one point SELECT, -c 8
#   registration       INSERT of a username from a pool of BENCH_NAMES (23505 when taken), -c 8
#   kv                 SQL point reads/writes by primary key (BENCH_KV_READ_PERCENT reads), -c 16
#   hot-row            UPDATE of one counter from every client, -c 8
#   commit-c1          single-row UPDATE (autocommit) at -c 1: commit latency
#   kv-put, kv-get     KV put / linearizable get of 256-byte values over 10,000 keys at 16
#                      clients, ordo-3 (kv.Dial, to the leaseholder) and etcd (to the leader)
#   write-ranges       ordo-3 only: SQL kv, writes only, -c 16, on bench_kv split into a
#                      range of its own (write-1-range) and into 4 ranges whose leases are
#                      spread over the 3 nodes (write-4-ranges; ordo bench --ranges)
#
# pgbench's tables are loaded once per target by `ordo bench tpcb --init`
# (COPY of 1,000 rows per transaction over 4 connections, then VACUUM
# ANALYZE where the target has it, as pgbench -i does); the table shows each
# load's wall time (row load-sN).
#
# It prints one table: tps, p50, p99 and 40001/23505/other error counts per
# target, the ratios ordo-3/postgres, ordo-1/postgres, ordo-1/ordo-3 and
# ordo-3/etcd (for tps higher is better for the numerator; for latency lower
# is), and next to each ratio that issue 9 sets a goal for, the goal and
# whether it was met (and if not, by how much it was missed); then the goals
# in a list. --json FILE writes the same figures, ratios and goals as JSON.
#
# Environment: BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_MODE (-M:
# prepared), BENCH_SCALE (10), BENCH_NAMES (1000000), BENCH_KV_READ_PERCENT
# (50), BENCH_KV_ZIPF (0: uniform), BENCH_WORKLOADS (all of the above,
# space-separated), BENCH_TARGETS ("postgres ordo-3 ordo-1 etcd"),
# BENCH_TIMEOUT (whole run, seconds: 1800), BENCH_INIT_TIMEOUT (one load,
# seconds: 900), BENCH_TMPDIR (where the data goes; a real disk, not tmpfs),
# ORDO (bin/ordo), PG_BIN (/usr/lib/postgresql/15/bin), ETCD (etcd on PATH).
# About 10 minutes at the defaults on 2 cores. Every process it starts is
# stopped when it exits, however it exits.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

JSON_OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--json) JSON_OUT=$2; shift 2 ;;
	--json=*) JSON_OUT=${1#--json=}; shift ;;
	-h | --help) sed -n '2,51p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$JSON_OUT" in "" | /*) ;; *) JSON_OUT=$ROOT/$JSON_OUT ;; esac

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-2s}
MODE=${BENCH_MODE:-prepared}
SCALE=${BENCH_SCALE:-10}
NAMES=${BENCH_NAMES:-1000000}
KV_READ=${BENCH_KV_READ_PERCENT:-50}
KV_ZIPF=${BENCH_KV_ZIPF:-0}
WORKLOADS=${BENCH_WORKLOADS:-tpcb-c8 tpcb-c32 select-only registration kv hot-row commit-c1 kv-put kv-get write-ranges}
TARGETS=${BENCH_TARGETS:-postgres ordo-3 ordo-1 etcd}
TOTAL_LIMIT=${BENCH_TIMEOUT:-1800}
INIT_LIMIT=${BENCH_INIT_TIMEOUT:-900}
ORDO=${ORDO:-$ROOT/bin/ordo}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ETCD=${ETCD:-$(command -v etcd || echo /usr/bin/etcd)}
KV_KEYS=10000 KV_VALUE=256 KV_CLIENTS=16

[ -x "$ORDO" ] || { echo "bench: $ORDO missing: run make build" >&2; exit 1; }
wants() { case " $TARGETS " in *" $1 "*) return 0 ;; esac; return 1; }
has_workload() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }
for w in $WORKLOADS; do
	case "$w" in
	tpcb-c8 | tpcb-c32 | select-only | registration | kv | hot-row | commit-c1 | kv-put | kv-get | write-ranges) ;;
	*) echo "bench: unknown workload $w" >&2; exit 2 ;;
	esac
done
for t in $TARGETS; do
	case "$t" in
	postgres | ordo-3 | ordo-1 | etcd) ;;
	*) echo "bench: unknown target $t (want postgres, ordo-3, ordo-1, etcd)" >&2; exit 2 ;;
	esac
done
# etcd only takes part in kv-put and kv-get.
if wants etcd && ! has_workload kv-put && ! has_workload kv-get; then
	TARGETS=$(echo " $TARGETS " | sed 's/ etcd / /')
fi
if wants postgres; then
	[ -x "$PG_BIN/pg_ctl" ] || { echo "bench: no PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15)" >&2; exit 1; }
fi
if wants etcd; then
	[ -x "$ETCD" ] || { echo "bench: no etcd binary (apt-get install etcd-server)" >&2; exit 1; }
fi

# secs D: whole seconds of a Go duration like 10s, 1500ms or 1m.
secs() {
	case "$1" in
	*ms) echo $(( (${1%ms} + 999) / 1000 )) ;;
	*m) echo $(( ${1%m} * 60 )) ;;
	*s) echo "${1%s}" | cut -d. -f1 ;;
	*) echo "$1" ;;
	esac
}
# Every run is bounded: warm-up + duration + a minute for setup.
RUN_LIMIT=$(( $(secs "$WARMUP") + $(secs "$DURATION") + 60 ))

TMP=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/ordo-bench.XXXXXX")
chmod 711 "$TMP"
PIDS=()   # servers and the watchdog
CHILD=""  # the foreground job of the moment (see run)
PG_DATA="" PG_STARTED=0

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# run CMD...: CMD in the background, waited for. Bash runs a trap only once
# the foreground command ends, so a TERM would otherwise wait for a whole
# run; wait is interrupted at once, and cleanup stops CHILD.
run() {
	"$@" &
	CHILD=$!
	local rc=0
	wait "$CHILD" || rc=$?
	CHILD=""
	return $rc
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local pid
	if [ -n "$CHILD" ]; then
		kill -TERM "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	if [ $PG_STARTED = 1 ]; then
		as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
	fi
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
		echo "bench: failed (exit $rc); last lines of the logs:" >&2
		for f in "$TMP"/*.log "$TMP"/pg/postgres.log; do
			[ -f "$f" ] && { echo "== $f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The whole run is bounded too: past BENCH_TIMEOUT the watchdog TERMs us.
(
	sleep "$TOTAL_LIMIT" &
	s=$!
	trap 'kill $s 2>/dev/null; exit 0' TERM
	wait $s
	echo "bench: still running after ${TOTAL_LIMIT}s (BENCH_TIMEOUT): stopping" >&2
	kill -TERM $$
) &
PIDS+=($!)

if [ "$(stat -f -c %T "$TMP")" = tmpfs ]; then
	echo "bench: warning: $TMP is on tmpfs, fsync is free there; set BENCH_TMPDIR to a real disk" >&2
fi

# free_port prints a TCP port on 127.0.0.1 that nothing listens on, below
# the kernel's ephemeral range so no outgoing connection takes it meanwhile.
EPHEMERAL_LO=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$EPHEMERAL_LO" -gt 12000 ] || EPHEMERAL_LO=32768
free_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % (EPHEMERAL_LO - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			case " ${USED_PORTS:-} " in *" $p "*) continue ;; esac
			USED_PORTS="${USED_PORTS:-} $p"
			echo "$p"
			return
		fi
	done
}

wait_healthy() { # name http-addr pid
	local try
	for try in $(seq 300); do
		curl -fsS "http://$2/health" >/dev/null 2>&1 && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.2
	done
	echo "bench: $1 never became healthy" >&2
	return 1
}

declare -A URL

# --- PostgreSQL 15, default durability ---
start_postgres() {
	local port
	port=$(free_port)
	mkdir -p "$TMP/pg"
	[ "$(id -u)" = 0 ] && chown postgres: "$TMP/pg"
	PG_DATA=$TMP/pg/data
	as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-instructions \
		>"$TMP/pg-initdb.log" 2>&1
	PG_STARTED=1
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$TMP/pg/postgres.log" -w -t 60 \
		-o "-p $port -k $TMP/pg -c listen_addresses=127.0.0.1" start >"$TMP/pg-ctl.log" 2>&1
	URL[postgres]="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

# --- ordo: 3 nodes joined, then init; and 1 node on its own ---
ORDO3_ADDRS=()
start_ordo3() {
	local sqls=() https=() pids=() i join urls=()
	for i in 0 1 2; do
		ORDO3_ADDRS+=("127.0.0.1:$(free_port)") sqls+=("127.0.0.1:$(free_port)") https+=("127.0.0.1:$(free_port)")
	done
	join=$(IFS=,; echo "${ORDO3_ADDRS[*]}")
	for i in 0 1 2; do
		"$ORDO" start --store "$TMP/ordo3-n$((i + 1))" --listen-addr "${ORDO3_ADDRS[$i]}" --sql-addr "${sqls[$i]}" \
			--http-addr "${https[$i]}" --join "$join" --log-level warn >"$TMP/ordo3-n$((i + 1)).log" 2>&1 &
		PIDS+=($!)
		pids+=($!)
	done
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/${ORDO3_ADDRS[0]%:*}/${ORDO3_ADDRS[0]#*:}") 2>/dev/null && break
		sleep 0.1
	done
	run "$ORDO" init --host "${ORDO3_ADDRS[0]}" --timeout 60s >"$TMP/ordo3-init.log" 2>&1
	for i in 0 1 2; do
		wait_healthy "ordo-3 node $((i + 1))" "${https[$i]}" "${pids[$i]}"
		urls+=("postgres://root@${sqls[$i]}/defaultdb?sslmode=disable")
	done
	URL[ordo-3]=$(IFS=,; echo "${urls[*]}")
}

start_ordo1() {
	local addr sql http
	addr="127.0.0.1:$(free_port)" sql="127.0.0.1:$(free_port)" http="127.0.0.1:$(free_port)"
	"$ORDO" start --single-node --store "$TMP/ordo1" --listen-addr "$addr" --sql-addr "$sql" \
		--http-addr "$http" --log-level warn >"$TMP/ordo1.log" 2>&1 &
	PIDS+=($!)
	wait_healthy ordo-1 "$http" $!
	URL[ordo-1]="postgres://root@$sql/defaultdb?sslmode=disable"
}

# --- etcd: 3 members, default durability ---
ETCD_EPS=""
start_etcd() {
	local client=() peer=() initial="" i n
	for i in 0 1 2; do
		client+=("127.0.0.1:$(free_port)") peer+=("127.0.0.1:$(free_port)")
		initial+="${initial:+,}e$((i + 1))=http://${peer[$i]}"
	done
	for i in 0 1 2; do
		n=$((i + 1))
		"$ETCD" --name "e$n" --data-dir "$TMP/etcd$n" \
			--listen-client-urls "http://${client[$i]}" --advertise-client-urls "http://${client[$i]}" \
			--listen-peer-urls "http://${peer[$i]}" --initial-advertise-peer-urls "http://${peer[$i]}" \
			--initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token ordo-bench \
			--logger zap --log-level warn >"$TMP/etcd$n.log" 2>&1 &
		PIDS+=($!)
	done
	ETCD_EPS=$(IFS=,; echo "${client[*]}")
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BEGIN=$(date +%s)
echo "bench: starting $TARGETS (data in $TMP); load average $LOAD_BEFORE" >&2
for t in $TARGETS; do
	case "$t" in
	postgres) start_postgres ;;
	ordo-3) start_ordo3 ;;
	ordo-1) start_ordo1 ;;
	etcd) start_etcd ;;
	esac
done

KVBENCH=""
if has_workload kv-put || has_workload kv-get; then
	echo "bench: building scripts/kvbench" >&2
	# -mod=mod: add go.sum entries for whatever the main module newly requires.
	run go -C scripts/kvbench build -mod=mod -o "$TMP/kvbench" .
	KVBENCH=$TMP/kvbench
fi

RESULTS=$TMP/results.jsonl
: >"$RESULTS"

# sql_args LABEL: the ordo bench arguments of one SQL row of the table.
sql_args() {
	case "$1" in
	tpcb-c8) echo "tpcb --clients 8" ;;
	tpcb-c32) echo "tpcb --clients 32" ;;
	select-only) echo "select-only --clients 8" ;;
	registration) echo "registration --clients 8 --names $NAMES" ;;
	kv) echo "kv --clients 16 --read-percent $KV_READ --zipf $KV_ZIPF" ;;
	hot-row) echo "hot-row --clients 8" ;;
	commit-c1) echo "kv --clients 1 --read-percent 0" ;;
	esac
}

# targets_of WORKLOAD: the targets (of those wanted) it runs against.
targets_of() {
	local all t out=""
	case "$1" in
	kv-put | kv-get) all="ordo-3 etcd" ;;
	write-ranges) all="ordo-3" ;;
	*) all="postgres ordo-3 ordo-1" ;;
	esac
	for t in $all; do wants "$t" && out="$out $t"; done
	echo "$out"
}

# load_tpcb TARGET: pgbench's tables, once per target, before its first
# tpcb or select-only run; the wall time goes into the results.
LOADED=""
load_tpcb() {
	case " $LOADED " in *" $1 "*) return 0 ;; esac
	echo "bench: $1: loading pgbench tables at scale $SCALE" >&2
	local t0 t1
	t0=$(date +%s.%N)
	run timeout "$INIT_LIMIT" "$ORDO" bench tpcb --init --scale "$SCALE" --url "${URL[$1]}" --progress 0 >&2
	t1=$(date +%s.%N)
	printf '{"target":"%s","label":"load-s%d","workload":"load","seconds":%.1f}\n' \
		"$1" "$SCALE" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >>"$RESULTS"
	LOADED="$LOADED $1"
}

KV_PRELOADED=""
# kv_run TARGET OP: kvbench at KV_CLIENTS clients.
kv_run() {
	local t=$1 op=$2 flags
	if [ "$t" = etcd ]; then flags=(--target etcd --endpoints "$ETCD_EPS"); else
		flags=(--target ordo --endpoints "$(IFS=,; echo "${ORDO3_ADDRS[*]}")")
	fi
	flags+=(--keys "$KV_KEYS" --value-size "$KV_VALUE")
	case " $KV_PRELOADED " in *" $t "*) ;; *)
		echo "bench: $t: pre-loading $KV_KEYS keys of $KV_VALUE bytes" >&2
		run timeout "$RUN_LIMIT" "$KVBENCH" "${flags[@]}" --preload-only --clients 16
		KV_PRELOADED="$KV_PRELOADED $t"
	esac
	echo "bench: kv-$op on $t: kvbench --op $op --clients $KV_CLIENTS (${WARMUP} warm-up, ${DURATION})" >&2
	run timeout "$RUN_LIMIT" "$KVBENCH" "${flags[@]}" --preload=false --op "$op" --clients "$KV_CLIENTS" \
		--duration "$DURATION" --warmup "$WARMUP" --json --name "$t" --label "kv-$op" >>"$RESULTS"
}

# ranges_run N LABEL: ordo-3 SQL writes on bench_kv split into N ranges.
ranges_run() {
	echo "bench: $2 on ordo-3: ordo bench kv --read-percent 0 --clients 16 --ranges $1 (${WARMUP} warm-up, ${DURATION})" >&2
	run timeout "$RUN_LIMIT" "$ORDO" bench kv --clients 16 --read-percent 0 --ranges "$1" --admin "${ORDO3_ADDRS[0]}" \
		-M "$MODE" --duration "$DURATION" --warmup "$WARMUP" --progress 0 \
		--url "${URL[ordo-3]}" --target ordo-3 --label "$2" --json >>"$RESULTS"
}

k=0
for w in $WORKLOADS; do
	read -r -a tl <<<"$(targets_of "$w")"
	n=${#tl[@]}
	[ "$n" = 0 ] && continue
	if [ "$w" = write-ranges ]; then
		ranges_run 1 write-1-range
		ranges_run 4 write-4-ranges
		continue
	fi
	for ((j = 0; j < n; j++)); do
		t=${tl[$(((j + k) % n))]}
		case "$w" in
		kv-put | kv-get) kv_run "$t" "${w#kv-}"; continue ;;
		tpcb-* | select-only) load_tpcb "$t" ;;
		esac
		args=$(sql_args "$w")
		echo "bench: $w on $t: ordo bench $args -M $MODE (${WARMUP} warm-up, ${DURATION})" >&2
		# shellcheck disable=SC2086 # args is a word list
		run timeout "$RUN_LIMIT" "$ORDO" bench $args -M "$MODE" --duration "$DURATION" --warmup "$WARMUP" \
			--url "${URL[$t]}" --target "$t" --label "$w" --json >>"$RESULTS"
	done
	k=$((k + 1))
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "make bench, $(date -u +%Y-%m-%d), $(nproc) cores, loopback; -M $MODE for SQL, ${DURATION} per run after ${WARMUP} warm-up;" \
	"tpcb scale $SCALE. PostgreSQL $("$PG_BIN/postgres" --version 2>/dev/null | awk '{print $3}') with fsync and" \
	"synchronous_commit on; ordo-3 = 3 nodes RF 3 (SQL clients spread over them), ordo-1 = 1 node;" \
	"etcd $("$ETCD" --version 2>/dev/null | sed -n 's/^etcd Version: //p') 3 members (kv-put/kv-get: kvbench, linearizable gets)."
echo "load average before $LOAD_BEFORE, after $LOAD_AFTER; the run took $(( $(date +%s) - BEGIN )) s" \
	"(other work on the machine skews every figure: read the ratios)"
echo
RATIOS=""
for pair in ordo-3/postgres ordo-1/postgres ordo-1/ordo-3 ordo-3/etcd; do
	wants "${pair%/*}" && wants "${pair#*/}" && RATIOS="$RATIOS${RATIOS:+,}$pair"
done
# Issue 9's goals.
GOALS="tpcb-c32@ordo-3/tpcb-c32@postgres:tps>=0.5"
GOALS+=",registration@ordo-3/registration@postgres:tps>=0.5"
GOALS+=",select-only@ordo-3/select-only@postgres:tps>=0.33"
GOALS+=",kv-put@ordo-3/kv-put@etcd:tps>=2"
GOALS+=",kv-get@ordo-3/kv-get@etcd:tps>=2"
GOALS+=",commit-c1@ordo-3/commit-c1@postgres:p50<=2"
GOALS+=",write-4-ranges@ordo-3/write-1-range@ordo-3:tps>=2.5"
"$ORDO" bench report ${RATIOS:+--ratios "$RATIOS"} --goals "$GOALS" ${JSON_OUT:+--json "$JSON_OUT"} "$RESULTS"
[ -n "$JSON_OUT" ] && echo "bench: figures written to $JSON_OUT" >&2
exit 0
