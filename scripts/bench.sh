#!/usr/bin/env bash
# SQL workloads against PostgreSQL 15, a 3-node ordo cluster and a 1-node
# ordo, on this machine, in one run, side by side (make bench).
#
#   scripts/bench.sh [--json FILE]
#
# Everything listens on 127.0.0.1 and keeps its data in one temp dir on the
# same disk. PostgreSQL keeps its default durability (fsync on,
# synchronous_commit on, full_page_writes on). The same load generator
# (ordo bench, over pgx) drives each target with the same clients and SQL;
# for each workload the targets take turns, rotating who goes first, so drift
# hits all alike. The ordo-3 clients are spread over the three nodes.
#
#   tpcb          pgbench's TPC-B-like transaction, scale BENCH_SCALE, -c 8
#   select-only   pgbench -S: one point SELECT, -c 8
#   registration  INSERT of a username from a pool of BENCH_NAMES (23505 when taken), -c 8
#   kv            point reads/writes by primary key (BENCH_KV_READ_PERCENT reads), -c 16
#   hot-row       UPDATE of one counter from every client, -c 8
#   commit-c1     single-row UPDATE (autocommit) at -c 1: commit latency
#
# It prints one table: tps, p50, p99 and 40001/23505/other error counts per
# target, and the ratios ordo-3/postgres, ordo-1/postgres and ordo-1/ordo-3
# (for tps higher is better for the numerator; for latency lower is).
# --json FILE writes the same figures and ratios as JSON.
#
# Environment: BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_MODE (-M:
# prepared), BENCH_SCALE (1), BENCH_NAMES (1000000), BENCH_KV_READ_PERCENT
# (50), BENCH_KV_ZIPF (0: uniform), BENCH_WORKLOADS (all six, space-separated),
# BENCH_TARGETS ("postgres ordo-3 ordo-1"), BENCH_TMPDIR (where the data goes;
# a real disk, not tmpfs), ORDO (bin/ordo), PG_BIN (/usr/lib/postgresql/15/bin).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

JSON_OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--json) JSON_OUT=$2; shift 2 ;;
	--json=*) JSON_OUT=${1#--json=}; shift ;;
	-h | --help) sed -n '2,31p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$JSON_OUT" in "" | /*) ;; *) JSON_OUT=$ROOT/$JSON_OUT ;; esac

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-2s}
MODE=${BENCH_MODE:-prepared}
SCALE=${BENCH_SCALE:-1}
NAMES=${BENCH_NAMES:-1000000}
KV_READ=${BENCH_KV_READ_PERCENT:-50}
KV_ZIPF=${BENCH_KV_ZIPF:-0}
WORKLOADS=${BENCH_WORKLOADS:-tpcb select-only registration kv hot-row commit-c1}
TARGETS=${BENCH_TARGETS:-postgres ordo-3 ordo-1}
ORDO=${ORDO:-$ROOT/bin/ordo}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

[ -x "$ORDO" ] || { echo "bench: $ORDO missing: run make build" >&2; exit 1; }
wants() { case " $TARGETS " in *" $1 "*) return 0 ;; esac; return 1; }
if wants postgres; then
	[ -x "$PG_BIN/pg_ctl" ] || { echo "bench: no PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15)" >&2; exit 1; }
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
# Every ordo bench run is bounded: warm-up + duration + a minute for setup.
RUN_LIMIT=$(( $(secs "$WARMUP") + $(secs "$DURATION") + 60 ))
INIT_LIMIT=${BENCH_INIT_TIMEOUT:-900}

TMP=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/ordo-bench.XXXXXX")
chmod 711 "$TMP"
PIDS=()
PG_DATA="" PG_STARTED=0

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local pid
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
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$TMP/pg/postgres.log" -w -t 60 \
		-o "-p $port -k $TMP/pg -c listen_addresses=127.0.0.1" start >"$TMP/pg-ctl.log" 2>&1
	PG_STARTED=1
	URL[postgres]="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

# --- ordo: 3 nodes joined, then init; and 1 node on its own ---
start_ordo3() {
	local addrs=() sqls=() https=() pids=() i join urls=()
	for i in 0 1 2; do
		addrs+=("127.0.0.1:$(free_port)") sqls+=("127.0.0.1:$(free_port)") https+=("127.0.0.1:$(free_port)")
	done
	join=$(IFS=,; echo "${addrs[*]}")
	for i in 0 1 2; do
		"$ORDO" start --store "$TMP/ordo3-n$((i + 1))" --listen-addr "${addrs[$i]}" --sql-addr "${sqls[$i]}" \
			--http-addr "${https[$i]}" --join "$join" --log-level warn >"$TMP/ordo3-n$((i + 1)).log" 2>&1 &
		PIDS+=($!)
		pids+=($!)
	done
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/${addrs[0]%:*}/${addrs[0]#*:}") 2>/dev/null && break
		sleep 0.1
	done
	"$ORDO" init --host "${addrs[0]}" --timeout 60s >"$TMP/ordo3-init.log" 2>&1
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

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: starting $TARGETS (data in $TMP); load average $LOAD_BEFORE" >&2
for t in $TARGETS; do
	case "$t" in
	postgres) start_postgres ;;
	ordo-3) start_ordo3 ;;
	ordo-1) start_ordo1 ;;
	*) echo "bench: unknown target $t (want postgres, ordo-3, ordo-1)" >&2; exit 2 ;;
	esac
done

# workload_args LABEL: the ordo bench arguments of one row of the table.
workload_args() {
	case "$1" in
	tpcb) echo "tpcb --clients 8" ;;
	select-only) echo "select-only --clients 8" ;;
	registration) echo "registration --clients 8 --names $NAMES" ;;
	kv) echo "kv --clients 16 --read-percent $KV_READ --zipf $KV_ZIPF" ;;
	hot-row) echo "hot-row --clients 8" ;;
	commit-c1) echo "kv --clients 1 --read-percent 0" ;;
	*) echo "bench: unknown workload $1" >&2; return 1 ;;
	esac
}

RESULTS=$TMP/results.jsonl
: >"$RESULTS"
LOADED=""

# load_tpcb TARGET: pgbench's tables, once per target, before its first
# tpcb or select-only run.
load_tpcb() {
	case " $LOADED " in *" $1 "*) return 0 ;; esac
	echo "bench: $1: loading pgbench tables at scale $SCALE" >&2
	timeout "$INIT_LIMIT" "$ORDO" bench tpcb --init --scale "$SCALE" --url "${URL[$1]}" --progress 0 >&2
	LOADED="$LOADED $1"
}

read -r -a TARGET_LIST <<<"$TARGETS"
k=0
for w in $WORKLOADS; do
	args=$(workload_args "$w")
	n=${#TARGET_LIST[@]}
	for ((j = 0; j < n; j++)); do
		t=${TARGET_LIST[$(((j + k) % n))]}
		case "$w" in tpcb | select-only) load_tpcb "$t" ;; esac
		echo "bench: $w on $t: ordo bench $args -M $MODE (${WARMUP} warm-up, ${DURATION})" >&2
		# shellcheck disable=SC2086 # args is a word list
		timeout "$RUN_LIMIT" "$ORDO" bench $args -M "$MODE" --duration "$DURATION" --warmup "$WARMUP" \
			--url "${URL[$t]}" --target "$t" --label "$w" --json >>"$RESULTS"
	done
	k=$((k + 1))
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "ordo bench, -M $MODE, ${DURATION} per run after ${WARMUP} warm-up, loopback, $(nproc) cores;" \
	"PostgreSQL $("$PG_BIN/postgres" --version 2>/dev/null | awk '{print $3}') with fsync and synchronous_commit on;" \
	"ordo-3 = 3 nodes RF 3 (clients spread over them), ordo-1 = 1 node"
echo "load average before $LOAD_BEFORE, after $LOAD_AFTER (other work on the machine skews every figure)"
echo
RATIOS=""
for pair in ordo-3/postgres ordo-1/postgres ordo-1/ordo-3; do
	wants "${pair%/*}" && wants "${pair#*/}" && RATIOS="$RATIOS${RATIOS:+,}$pair"
done
"$ORDO" bench report ${RATIOS:+--ratios "$RATIOS"} ${JSON_OUT:+--json "$JSON_OUT"} "$RESULTS"
[ -n "$JSON_OUT" ] && echo "bench: figures written to $JSON_OUT" >&2
exit 0
