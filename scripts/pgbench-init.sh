#!/usr/bin/env bash
# pgbench -i at one scale against PostgreSQL 15 and a 3-node ordo cluster,
# on this machine, in one run (make pgbench-scale10): prints each init's
# wall time and the ratio ordo-3/postgres.
#
#   scripts/pgbench-init.sh [SCALE]        (default 10)
#
# Each target runs pgbench -i -s SCALE with the default steps (dtgvp: COPY
# of every row in one transaction, then ADD PRIMARY KEY) and then with
# server-side generation (-I dtGvp: INSERT ... SELECT generate_series), and
# the row counts are checked after each. PostgreSQL keeps its default
# durability. Environment: PGBENCH_STEPS (the -I variants, "dtgvp dtGvp"),
# PGBENCH_TARGETS ("postgres ordo-3"), PGBENCH_INIT_TIMEOUT (seconds per
# init, 3600), PGBENCH_TMPDIR (where the data goes; a real disk, not tmpfs),
# ORDO (bin/ordo), PG_BIN (/usr/lib/postgresql/15/bin).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

SCALE=${1:-10}
STEPS=${PGBENCH_STEPS:-dtgvp dtGvp}
TARGETS=${PGBENCH_TARGETS:-postgres ordo-3}
INIT_LIMIT=${PGBENCH_INIT_TIMEOUT:-3600}
ORDO=${ORDO:-$ROOT/bin/ordo}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGBENCH=$PG_BIN/pgbench
PSQL=$PG_BIN/psql

[ -x "$ORDO" ] || { echo "pgbench-init: $ORDO missing: run make build" >&2; exit 1; }
for b in "$PG_BIN/pg_ctl" "$PGBENCH" "$PSQL"; do
	[ -x "$b" ] || { echo "pgbench-init: $b missing (apt-get install postgresql-15 postgresql-client-15)" >&2; exit 1; }
done

TMP=$(mktemp -d "${PGBENCH_TMPDIR:-${TMPDIR:-/tmp}}/ordo-pgbench.XXXXXX")
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
		echo "pgbench-init: failed (exit $rc); last lines of the logs:" >&2
		for f in "$TMP"/*.log "$TMP"/pg/postgres.log; do
			[ -f "$f" ] && { echo "== $f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	[ -n "${PGBENCH_KEEP:-}" ] && { echo "pgbench-init: kept $TMP" >&2; exit $rc; }
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(stat -f -c %T "$TMP")" = tmpfs ]; then
	echo "pgbench-init: warning: $TMP is on tmpfs, fsync is free there; set PGBENCH_TMPDIR to a real disk" >&2
fi

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
	echo "pgbench-init: $1 never became healthy" >&2
	return 1
}

declare -A URL

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

start_ordo3() {
	local addrs=() sqls=() https=() pids=() i join
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
	done
	URL[ordo-3]="postgres://root@${sqls[0]}/defaultdb?sslmode=disable"
	HTTP_ORDO=${https[0]}
	echo "pgbench-init: ordo-3 SQL on ${sqls[0]}, HTTP (/debug/pprof) on ${https[0]}" >&2
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for t in $TARGETS; do
	case "$t" in
	postgres) start_postgres ;;
	ordo-3) start_ordo3 ;;
	*) echo "pgbench-init: unknown target $t (want postgres, ordo-3)" >&2; exit 2 ;;
	esac
done

declare -A SECS
for steps in $STEPS; do
	for t in $TARGETS; do
		echo "pgbench-init: $t: pgbench -i -s $SCALE -I $steps" >&2
		start=$(date +%s.%N)
		if ! timeout "$INIT_LIMIT" "$PGBENCH" -i -s "$SCALE" -I "$steps" "${URL[$t]}" >"$TMP/$t-$steps.out" 2>&1; then
			cat "$TMP/$t-$steps.out" >&2
			echo "pgbench-init: $t: pgbench -i -s $SCALE -I $steps failed" >&2
			exit 1
		fi
		end=$(date +%s.%N)
		SECS[$t/$steps]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
		tail -n 3 "$TMP/$t-$steps.out" >&2
		n=$("$PSQL" -XAtq "${URL[$t]}" -c "SELECT count(*) FROM pgbench_accounts")
		if [ "$n" != "$((SCALE * 100000))" ]; then
			echo "pgbench-init: $t: pgbench_accounts has $n rows after -I $steps, want $((SCALE * 100000))" >&2
			exit 1
		fi
	done
done

echo
echo "pgbench -i -s $SCALE, loopback, $(nproc) cores; PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}')" \
	"with default durability; ordo-3 = 3 nodes RF 3"
echo "load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s' steps; for t in $TARGETS; do printf '%14s' "$t (s)"; done
wants_ratio=0
case " $TARGETS " in *" postgres "*) case " $TARGETS " in *" ordo-3 "*) wants_ratio=1 ;; esac ;; esac
[ $wants_ratio = 1 ] && printf '%22s' "ordo-3/postgres"
echo
for steps in $STEPS; do
	printf '%-8s' "$steps"
	for t in $TARGETS; do printf '%14.1f' "${SECS[$t/$steps]}"; done
	[ $wants_ratio = 1 ] && printf '%22.1f' "$(awk -v o="${SECS[ordo-3/$steps]}" -v p="${SECS[postgres/$steps]}" 'BEGIN { print (p > 0 ? o / p : 0) }')"
	echo
done
