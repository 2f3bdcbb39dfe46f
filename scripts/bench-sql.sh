#!/usr/bin/env bash
# Issue 6's "Figures for your note" (make bench-sql): SQL point operations on
# a 3-node ordo cluster (RF 3) next to PostgreSQL 15 on the same machine, at
# 1 and 8 clients, as ratios.
#
#   scripts/bench-sql.sh [--json FILE]
#
# Workloads (all ordo bench, pgx, -M prepared, the same SQL on both targets):
#   point-select   ordo bench kv --read-percent 100:  SELECT v FROM bench_kv WHERE k = $1
#   point-update   ordo bench kv --read-percent 0:    UPDATE bench_kv SET v = $2 WHERE k = $1
#                  (bench_kv (k bigint PRIMARY KEY, v text NOT NULL): 10,000 rows of 100-byte
#                  values, dropped and re-loaded by COPY before every run; keys uniform)
#   registration   ordo bench registration:  INSERT INTO bench_users (id, username) VALUES ($1, $2)
#                  into bench_users (id bigint PRIMARY KEY, username text NOT NULL UNIQUE,
#                  created_at timestamptz NOT NULL DEFAULT now()), created afresh for every run;
#                  id is unique per client (client<<40 | n), username drawn from a pool of
#                  BENCH_NAMES (100,000,000) names, so nearly every insert succeeds (a taken
#                  name is a 23505, counted under errors).
# each at -c 1 and -c 8, every statement autocommit (one statement per transaction). The
# ordo clients are spread over the 3 nodes (client i on node i mod 3). Each run is
# WARMUP of unmeasured load, then DURATION measured; for each row the two targets
# take turns, rotating who goes first.
#
# Everything listens on 127.0.0.1 and keeps its data in one temp dir on the same
# disk; PostgreSQL keeps its default durability (fsync, synchronous_commit on). The
# start/stop code is scripts/bench.sh's. Every process started here is stopped when
# the script exits, however it exits, and the whole run is bounded (BENCH_TIMEOUT).
#
# Prints one table: workload, clients, ordo tps, PostgreSQL tps, ordo/PG tps ratio,
# p50/p99 (ms) of both, errors (40001/23505/other) of both. --json FILE writes the
# rows (and every run's full ordo bench figures) as JSON. There are no pass/fail
# thresholds: these are figures, not assertions.
#
# Environment: DURATION (15s), WARMUP (3s), BENCH_NAMES (100000000), BENCH_TIMEOUT
# (whole run, seconds: 900), BENCH_TMPDIR (a real disk, not tmpfs), ORDO (bin/ordo),
# PG_BIN (/usr/lib/postgresql/15/bin). About 5 minutes at the defaults.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

JSON_OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--json) JSON_OUT=$2; shift 2 ;;
	--json=*) JSON_OUT=${1#--json=}; shift ;;
	-h | --help) sed -n '2,36p' "$0"; exit 0 ;;
	*) echo "bench-sql: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$JSON_OUT" in "" | /*) ;; *) JSON_OUT=$ROOT/$JSON_OUT ;; esac

DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
NAMES=${BENCH_NAMES:-100000000}
TOTAL_LIMIT=${BENCH_TIMEOUT:-900}
MODE=prepared
ORDO=${ORDO:-$ROOT/bin/ordo}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

[ -x "$ORDO" ] || { echo "bench-sql: $ORDO missing: run make build" >&2; exit 1; }
[ -x "$PG_BIN/pg_ctl" ] || { echo "bench-sql: no PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15)" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench-sql: needs jq" >&2; exit 1; }

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

TMP=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/ordo-bench-sql.XXXXXX")
chmod 711 "$TMP"
PIDS=()   # servers and the watchdog
CHILD=""  # the foreground job of the moment (see run)
PG_DATA="" PG_STARTED=0

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# run CMD...: CMD in the background, waited for, so a TERM is handled at once
# (bash runs a trap only after the foreground command ends); cleanup stops CHILD.
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
		echo "bench-sql: failed (exit $rc); last lines of the logs:" >&2
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
	echo "bench-sql: still running after ${TOTAL_LIMIT}s (BENCH_TIMEOUT): stopping" >&2
	kill -TERM $$
) &
PIDS+=($!)

if [ "$(stat -f -c %T "$TMP")" = tmpfs ]; then
	echo "bench-sql: warning: $TMP is on tmpfs, fsync is free there; set BENCH_TMPDIR to a real disk" >&2
fi

# free_port prints a TCP port on 127.0.0.1 that nothing listens on, below the
# kernel's ephemeral range so no outgoing connection takes it meanwhile.
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
	echo "bench-sql: $1 never became healthy" >&2
	return 1
}

declare -A URL

# --- PostgreSQL 15, default durability (as scripts/bench.sh) ---
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

# --- ordo: 3 nodes joined, then init (as scripts/bench.sh) ---
ORDO3_ADDRS=()
ORDO3_SQL=""
start_ordo3() {
	local sqls=() https=() pids=() i join
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
	run timeout 120 "$ORDO" init --host "${ORDO3_ADDRS[0]}" --timeout 60s >"$TMP/ordo3-init.log" 2>&1
	for i in 0 1 2; do
		wait_healthy "ordo-3 node $((i + 1))" "${https[$i]}" "${pids[$i]}"
	done
	ORDO3_SQL=$(IFS=,; echo "${sqls[*]}")
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BEGIN=$(date +%s)
echo "bench-sql: starting PostgreSQL 15 and a 3-node ordo (data in $TMP); load average $LOAD_BEFORE" >&2
start_postgres
start_ordo3

RESULTS=$TMP/results.jsonl
: >"$RESULTS"

# args_of WORKLOAD: its ordo bench arguments (without --clients).
args_of() {
	case "$1" in
	point-select) echo "kv --read-percent 100" ;;
	point-update) echo "kv --read-percent 0" ;;
	registration) echo "registration --names $NAMES" ;;
	esac
}

k=0
for w in point-select point-update registration; do
	for c in 1 8; do
		targets=(postgres ordo-3)
		[ $((k % 2)) = 1 ] && targets=(ordo-3 postgres)
		for t in "${targets[@]}"; do
			if [ "$t" = ordo-3 ]; then conn=(--hosts "$ORDO3_SQL"); else conn=(--url "${URL[postgres]}"); fi
			args=$(args_of "$w")
			echo "bench-sql: $w -c $c on $t: ordo bench $args --clients $c -M $MODE (${WARMUP} warm-up, ${DURATION})" >&2
			# shellcheck disable=SC2086 # args is a word list
			run timeout "$RUN_LIMIT" "$ORDO" bench $args --clients "$c" -M "$MODE" \
				--duration "$DURATION" --warmup "$WARMUP" --progress 0 \
				"${conn[@]}" --target "$t" --label "$w" --json >>"$RESULTS"
		done
		k=$((k + 1))
	done
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
PG_VERSION=$("$PG_BIN/postgres" --version 2>/dev/null | awk '{print $3}')

# One row per workload and client count, ordo-3 next to postgres (group_by
# sorts by label, then clients: point-select, point-update, registration).
ROWS=$(jq -s '
	def r(x): if x == null then null else (x * 100 | round) / 100 end;
	group_by([.label, .clients]) | map(
		(map(select(.target == "ordo-3"))[0]) as $o |
		(map(select(.target == "postgres"))[0]) as $p |
		{workload: $o.label, clients: $o.clients,
		 ordo_tps: r($o.tps), pg_tps: r($p.tps),
		 ratio: (if $p.tps > 0 then (($o.tps / $p.tps) * 1000 | round) / 1000 else null end),
		 ordo_p50_ms: r($o.p50_ms), ordo_p99_ms: r($o.p99_ms),
		 pg_p50_ms: r($p.p50_ms), pg_p99_ms: r($p.p99_ms),
		 ordo_errors: {"40001": $o.serialization_failures_40001, "23505": $o.unique_violations_23505, other: $o.other_errors},
		 pg_errors: {"40001": $p.serialization_failures_40001, "23505": $p.unique_violations_23505, other: $p.other_errors},
		 ordo_first_error: $o.first_error, pg_first_error: $p.first_error})' "$RESULTS")

echo
echo "make bench-sql, $(date -u +%Y-%m-%d), $(nproc) cores (shared), loopback; -M $MODE, autocommit," \
	"${DURATION} measured per run after ${WARMUP} warm-up. PostgreSQL $PG_VERSION (fsync, synchronous_commit on);" \
	"ordo = 3 nodes, RF 3, clients spread over the 3 nodes."
echo "load average before $LOAD_BEFORE, after $LOAD_AFTER; the run took $(( $(date +%s) - BEGIN )) s" \
	"(other work on the machine skews every figure: read the ratios)"
echo
{
	printf 'workload\tclients\tordo tps\tPG tps\tordo/PG\tordo p50/p99 ms\tPG p50/p99 ms\tordo errors 40001/23505/other\tPG errors\n'
	jq -r '.[] | [.workload, .clients, .ordo_tps, .pg_tps, .ratio,
		"\(.ordo_p50_ms)/\(.ordo_p99_ms)", "\(.pg_p50_ms)/\(.pg_p99_ms)",
		"\(.ordo_errors["40001"])/\(.ordo_errors["23505"])/\(.ordo_errors.other)",
		"\(.pg_errors["40001"])/\(.pg_errors["23505"])/\(.pg_errors.other)"] | @tsv' <<<"$ROWS"
} | column -t -s $'\t'
jq -r '.[] | select(.ordo_first_error != null or .pg_first_error != null) |
	"first error, \(.workload) -c \(.clients): ordo: \(.ordo_first_error // "-"); PG: \(.pg_first_error // "-")"' <<<"$ROWS"

if [ -n "$JSON_OUT" ]; then
	jq -s --argjson rows "$ROWS" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg duration "$DURATION" \
		--arg warmup "$WARMUP" --arg pg "$PG_VERSION" --argjson cores "$(nproc)" \
		--arg load_before "$LOAD_BEFORE" --arg load_after "$LOAD_AFTER" \
		'{date: $date, cores: $cores, duration: $duration, warmup: $warmup, mode: "prepared",
		  postgres_version: $pg, load_before: $load_before, load_after: $load_after,
		  rows: $rows, runs: .}' "$RESULTS" >"$JSON_OUT"
	echo "bench-sql: figures written to $JSON_OUT" >&2
fi
exit 0
