#!/usr/bin/env bash
# Jobs per second through buildhook on PostgreSQL: one node, then a cluster of NODES (3) nodes sharing
# one database, same run, same machine (docs/BENCHMARKS.md).
#   mvn -B -q package -DskipTests && \
#   BUILDHOOK_BENCH_PG_URL='jdbc:postgresql://127.0.0.1:5432/buildhook_test?user=buildhook&password=buildhook' \
#   benchmarks/scripts/cluster-pg.sh [requests=2000] [concurrency=16] [warmup=200]
# Every delivery is sent to the first node (one webhook URL, as a factory has); its rule runs the
# same 3-line bash script as vs-adnanh.sh, which leaves "<start> <end> <build id>" in a trace file.
# Jobs/s = requests / (last command's end - first send). The other nodes find the jobs by polling
# (runner.poll-interval, default 5s; POLL to change it), the accepting node at once. Each run gets a
# new schema (bench_<random>) of BUILDHOOK_BENCH_PG_URL's database, dropped at the end.
# Env: NODES (3), RUNNER_THREADS (4 per node), POLL (5s), BENCH_KEEP=1 keeps the temp folder.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
requests=${1:-2000}
concurrency=${2:-16}
warmup=${3:-200}
nodes=${NODES:-3}
threads=${RUNNER_THREADS:-4}
poll=${POLL:-5s}
jar=$top/benchmarks/target/benchmarks.jar
server=$top/distribution/target/buildhook/bin/buildhook
for f in "$jar" "$server"; do
  [[ -e $f ]] || { echo "cluster-pg.sh: $f is missing; run: mvn -B -q package -DskipTests" >&2; exit 2; }
done
[[ -n ${BUILDHOOK_BENCH_PG_URL:-} ]] || { echo "cluster-pg.sh: set BUILDHOOK_BENCH_PG_URL=jdbc:postgresql://…" >&2; exit 2; }

work=$(mktemp -d /tmp/cluster-pg.XXXXXX)
pids=()
schemas=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for s in "${schemas[@]}"; do bench_psql -q -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1 || true; done
  [[ ${BENCH_KEEP:-} == 1 ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=common.sh
source "$top/benchmarks/scripts/common.sh"
bench_pg
bench_secret "$work"
bench_trace_script "$work"

run_cluster() { # label node-count
  local label=$1 count=$2 schema url n port dir first_port=18110 before=0 after=0 node_pids=()
  schema=bench_$(python3 -c 'import secrets; print(secrets.token_hex(6))')
  bench_psql -q -c "CREATE SCHEMA $schema" >/dev/null
  schemas+=("$schema")
  url="$BUILDHOOK_BENCH_PG_URL&currentSchema=$schema"
  for n in $(seq 1 "$count"); do
    port=$(( first_port + n - 1 ))
    dir=$work/$label/node$n
    mkdir -p "$dir"
    bench_config "$dir" "$port" "$work/secret" "$work/trace.sh" "$work/trace-$label"
    printf 'store: {url: "%s"}\nrunner:\n  threads: %s\n  node-id: %s\n  poll-interval: %s\n' \
        "$url" "$threads" "$label-node$n" "$poll" >> "$dir/buildhook.yaml"
    (cd "$dir" && exec "$server" serve --config "$dir/buildhook.yaml" > "$dir/serve.out" 2>&1) &
    pids+=("$!")
    node_pids+=("$!")
    bench_wait_for_port "$port" # one after the other: the first applies the migrations
  done
  for p in "${node_pids[@]}"; do before=$(( before + $(bench_cpu_ticks "$p") )); done
  java -cp "$jar" org.buildhook.benchmarks.load.LoadGenerator --label "$label" --url "http://127.0.0.1:$first_port/webhook" \
      --style jobserv --secret-file "$work/secret" --fixture "$top/fixtures/build-67-passed.json" \
      --trace "$work/trace-$label" --requests "$requests" --warmup "$warmup" --concurrency "$concurrency" \
      | tee "$work/$label.out"
  for p in "${node_pids[@]}"; do after=$(( after + $(bench_cpu_ticks "$p") )); done
  echo "# $label: jobs per node: $(bench_psql -At -c "SELECT string_agg(node || '=' || n, ' ' ORDER BY node) FROM (SELECT node, count(*) n FROM $schema.jobs GROUP BY node) x")"
  (python3 - "$label" "$work/$label.out" "$requests" "$warmup" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import re, sys
label, out = sys.argv[1], sys.argv[2]
requests, warmup, before, after, tck = map(int, sys.argv[3:])
line = [l for l in open(out) if l.startswith("RESULT ")][-1]
done = float(re.search(r"all_done_s=([0-9.]+)", line).group(1))
# The CPU ticks cover the warm-up's jobs too: divided by every job run.
cpu = (after - before) * 1000 / tck / (requests + warmup)
print(f"RESULT label={label}-jobs jobs_per_s={requests / done:.1f} all_done_s={done:.3f} cpu_ms_per_job={cpu:.3f}"
      " (nodes + their commands)")
PY
  ) | tee "$work/$label-jobs.out"
  for p in "${node_pids[@]}"; do kill -TERM "$p"; wait "$p" || true; done
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); load average $(cut -d' ' -f1-3 /proc/loadavg);" \
    "other processes $(ps -e --no-headers | wc -l); requests $requests, concurrency $concurrency, runner.threads $threads per node, poll $poll"
run_cluster pg-1-node 1
run_cluster "pg-$nodes-nodes" "$nodes"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -h '^RESULT label=pg-.*-jobs' "$work"/*.out 2>/dev/null || true
