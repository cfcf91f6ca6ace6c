#!/usr/bin/env bash
# Load: buildhook vs adnanh/webhook and vs this machine's own limits, same machine, same run
# (docs/BENCHMARKS.md).
#   mvn -B -q package -DskipTests && benchmarks/scripts/vs-adnanh.sh [requests=5000] [concurrency=16] [warmup=500]
# In order, back to back, each reference next to what it is the reference for:
#   1. the fsync ceiling of the data folder's file system (limits.FsyncCeiling: concurrency / one 4 KiB fsync),
#      the durable-accept floor (limits.DurableServlet: the body read, inserted into SQLite and committed with
#      its fsync by one group-committing writer, then a 202; nothing else), then buildhook's durable 202 with a
#      rule that matches nothing;
#   2. a bare Jetty 12 servlet reading the body (limits.BareServlet, the server's own connector set-up),
#      then buildhook's 404 (unknown endpoint, body read) and 401 (wrong signature);
#   3. buildhook (SQLite, then PostgreSQL if configured) and adnanh/webhook running one command per delivery,
#      JOB_ROUNDS (3) rounds of them, adnanh first in odd rounds and last in even ones, each on a fresh
#      receiver: on a shared machine the load moves within minutes, so adnanh's reference is measured
#      beside each buildhook run, not once at the end; the summary averages the rounds (each round's
#      ratios are printed too);
#   4. the Java process-start floor (limits.ProcessFloor: the same command started N times, by
#      posix_spawn with a new session as buildhook's launcher starts it, by a bare ProcessBuilder loop
#      behind setsid --wait as it did before, and without setsid);
#   5. start-up to the first 202 and idle RSS, with and without the shipped JVM options (startup.sh), and
#      on PostgreSQL with them (the node, and its watchdog process's RSS beside it).
# With COMPARE_OPTIONS=1 (the default), step 3 also runs buildhook on SQLite with the launch used before
# posix_spawn (-Dbuildhook.launch=setsid: VFORK, then the setsid exec) and with C2 (VFORK alone), and
# step 4 the floor through jspawnhelper too: the launch's and the options' trade, measured in the same run.
# Then a summary: every figure and its ratio to its reference of this run, with the goals of issue 17.
# Needs: the `webhook` binary (Debian: apt-get install webhook), bash 5 ($EPOCHREALTIME), python3.
# With BUILDHOOK_BENCH_PG_URL=jdbc:postgresql://…?user=…&password=… buildhook also runs on PostgreSQL
# (the durable 202 and the job run), each time in a new schema of its own (bench_<random>, given to
# buildhook as currentSchema and dropped at the end; nothing else in that database is touched).
# After each saturating run, PACED_REQUESTS (200) bodies at PACED_RATE (10) per second measure the
# send -> command start delay of a receiver that is not saturated; each paced run leaves LABEL-paced.lat
# in the temp folder, one line per request (build id, send time in µs since the epoch, answer ms), to
# read when its slow answers came (paced-after-burst.sh, docs/BENCHMARKS.md "Twenty-fourth pass").
# Env: RUNNER_THREADS (buildhook runner.threads, default 4), JAVA_OPTS (buildhook's JVM, e.g. JFR),
#      BENCH_KEEP=1 keeps the temp folder, ACCEPT_REQUESTS (5000: each of the 202/404/401 runs and
#      the bare servlet's), ROUNDS (3 rounds of those, each reference next to its figure), JOB_ROUNDS (3 rounds of
#      step 3), STARTUP_RUNS (2 each way; 0 skips), ONLY_LIMITS=1 stops after step 2.
#
# Each receiver has one rule/hook that runs the same script per delivery; the script appends one
# line "<start> <end> <build id>" ($EPOCHREALTIME) to a trace file, which gives the send -> command
# start delay and the time until all N commands have finished.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
requests=${1:-5000}
concurrency=${2:-16}
warmup=${3:-500}
paced=${PACED_REQUESTS:-200}
rate=${PACED_RATE:-10}
threads=${RUNNER_THREADS:-4}
accept_requests=${ACCEPT_REQUESTS:-5000}
rounds=${ROUNDS:-3}
job_rounds=${JOB_ROUNDS:-3}
# The suffix of the files of this job round ("-r2"); the RESULT lines keep the plain label, which the
# summary averages over the rounds.
sfx=
startup_runs=${STARTUP_RUNS:-2}
# The JVM options bin/buildhook sets itself (see there): C1 only, and VFORK on Java 17 to 24.
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
launch_opt=
(( ${java_major:-0} < 25 )) && launch_opt=-Djdk.lang.Process.launchMechanism=VFORK
jvm_defaults=${BUILDHOOK_JVM_DEFAULTS--XX:TieredStopAtLevel=1 $launch_opt}
compare_options=${COMPARE_OPTIONS:-1}
if (( requests > 5000 )) && [[ ${BENCH_ALLOW_BIG:-} != 1 ]]; then
  echo "vs-adnanh.sh: at most 5000 requests by default (set BENCH_ALLOW_BIG=1 to go further)" >&2; exit 2
fi
jar=$top/benchmarks/target/benchmarks.jar
server=$top/distribution/target/buildhook/bin/buildhook
for f in "$jar" "$server"; do
  [[ -e $f ]] || { echo "vs-adnanh.sh: $f is missing; run: mvn -B -q package -DskipTests" >&2; exit 2; }
done
command -v webhook >/dev/null || { echo "vs-adnanh.sh: no 'webhook' binary; apt-get install -y webhook" >&2; exit 2; }

work=$(mktemp -d /tmp/vs-adnanh.XXXXXX)
pids=()
pg_schemas=()
cleanup() {
  for schema in "${pg_schemas[@]}"; do bench_psql -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; done
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ ${BENCH_KEEP:-} == 1 ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=common.sh
source "$top/benchmarks/scripts/common.sh"
bench_secret "$work"
bench_trace_script "$work"
[[ -z ${BUILDHOOK_BENCH_PG_URL:-} ]] || bench_pg

pg_schema() { # a new schema on BUILDHOOK_BENCH_PG_URL; sets pg_url to the JDBC URL that makes it buildhook's
  # (not printed for $(…): a subshell's pg_schemas+= would be lost, and the schema never dropped)
  local schema
  schema=bench_$(python3 -c 'import secrets; print(secrets.token_hex(6))')
  bench_psql -q -c "CREATE SCHEMA $schema" >/dev/null
  pg_schemas+=("$schema")
  pg_url="$BUILDHOOK_BENCH_PG_URL&currentSchema=$schema"
}

load() { # label url style trace pid: a saturating run, then a paced one (label-paced) on the idle receiver
  local before after
  before=$(bench_cpu_ticks "$5")
  java -cp "$jar" org.buildhook.benchmarks.load.LoadGenerator --label "$1" --url "$2" --style "$3" \
      --secret-file "$work/secret" --fixture "$top/fixtures/build-67-passed.json" --trace "$4" \
      --requests "$requests" --warmup "$warmup" --concurrency "$concurrency" | tee "$work/$1$sfx.out"
  after=$(bench_cpu_ticks "$5")
  # CPU per delivery: the receiver plus the commands it ran, from the warm-up's end to the last command's end.
  python3 -c "import sys; print(f'CPU {sys.argv[1]}: {(int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4]) / int(sys.argv[5]) * 1000:.3f} ms per delivery (receiver + its commands)')" \
      "$1" "$before" "$after" "$(getconf CLK_TCK)" "$requests" | tee -a "$work/$1$sfx.out"
  sed -i "s/^RESULT .*/& cpu_ms_per_delivery=$(sed -n 's/^CPU .*: \([0-9.]*\) ms.*/\1/p' "$work/$1$sfx.out")/" \
      "$work/$1$sfx.out"
  java -cp "$jar" org.buildhook.benchmarks.load.LoadGenerator --label "$1-paced" --url "$2" --style "$3" \
      --secret-file "$work/secret" --fixture "$top/fixtures/build-67-passed.json" --trace "$4" \
      --requests "$paced" --warmup 0 --concurrency 4 --rate "$rate" --first-build-id 5000000 \
      --latencies "$work/$1-paced$sfx.lat" | tee "$work/$1-paced$sfx.out"
}

run_buildhook() { # label store-yaml [JVM options instead of bin/buildhook's defaults]
  local label=$1 port=18090 dir=$work/$1$sfx jvm_env=()
  (( $# < 3 )) || jvm_env=("BUILDHOOK_JVM_DEFAULTS=$3")
  mkdir -p "$dir"
  bench_config "$dir" "$port" "$work/secret" "$work/trace.sh" "$work/trace-$label$sfx"
  printf '%s\nrunner:\n  threads: %s\n' "$2" "$threads" >> "$dir/buildhook.yaml"
  (cd "$dir" && exec env "${jvm_env[@]}" "$server" serve --config "$dir/buildhook.yaml" > "$dir/serve.out" 2>&1) &
  local pid=$!
  pids+=("$pid")
  bench_wait_for_port "$port"
  load "$label" "http://127.0.0.1:$port/webhook" jobserv "$work/trace-$label$sfx" "$pid"
  kill -TERM "$pid"; wait "$pid" || true
}

run_adnanh() {
  local port=18091
  cat > "$work/hooks.json" <<JSON
[
  {
    "id": "bench",
    "execute-command": "$work/trace.sh",
    "command-working-directory": "$work",
    "pass-arguments-to-command": [
      {"source": "string", "name": "$work/trace-adnanh$sfx"},
      {"source": "payload", "name": "build_id"}
    ],
    "trigger-rule-mismatch-http-response-code": 403,
    "trigger-rule": {
      "match": {
        "type": "payload-hmac-sha256",
        "secret": "$(cat "$work/secret")",
        "parameter": {"source": "header", "name": "X-Hub-Signature-256"}
      }
    }
  }
]
JSON
  webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$port" > "$work/adnanh.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  bench_wait_for_port "$port"
  load adnanh "http://127.0.0.1:$port/hooks/bench" hub "$work/trace-adnanh$sfx" "$pid"
  kill -TERM "$pid"; wait "$pid" || true
}

quick() { # label round pid url expect [extra LoadGenerator options]: a saturating run without commands
  # Also the server's CPU per request (pid: the server), which moves far less with the machine's load.
  local label=$1 round=$2 server_pid=$3 url=$4 expect=$5 before after
  shift 5
  before=$(bench_cpu_ticks "$server_pid")
  java -cp "$jar" org.buildhook.benchmarks.load.LoadGenerator --label "$label" --url "$url" --style jobserv \
      --secret-file "$work/secret" --fixture "$top/fixtures/build-67-passed.json" --expect "$expect" \
      --first-build-id "$(( round * 1000000 ))" --requests "$accept_requests" --warmup "$warmup" \
      --concurrency "$concurrency" "$@" | tee "$work/$label-$round.out"
  after=$(bench_cpu_ticks "$server_pid")
  # The warm-up's requests are counted too: the ticks cover the whole LoadGenerator run.
  sed -i "s/^RESULT .*/& server_cpu_ms_per_request=$(python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) * 1000 / int(sys.argv[3]) / int(sys.argv[4]):.3f}')" \
      "$before" "$after" "$(getconf CLK_TCK)" "$(( accept_requests + warmup ))")/" "$work/$label-$round.out"
}

run_limits() { # the fsync ceiling, the durable floor and the bare servlet, interleaved with the figures they bound
  local dir=$work/accept port=18092 bare_port=18093 pg_port=18095 durable_port=18096 pid bare_pid durable_pid pg_pid= round
  mkdir -p "$dir/data"
  bench_config "$dir" "$port" "$work/secret"
  (cd "$dir" && exec "$server" serve --config "$dir/buildhook.yaml" > "$dir/serve.out" 2>&1) &
  pid=$!
  pids+=("$pid")
  # The bare servlet: the same Jetty set-up and JVM options, a servlet that only reads the body.
  # shellcheck disable=SC2086 # the JVM options are a list
  java $jvm_defaults -cp "$jar" org.buildhook.benchmarks.limits.BareServlet "$bare_port" > "$work/bare.log" 2>&1 &
  bare_pid=$!
  pids+=("$bare_pid")
  # The durable floor: the same Jetty set-up and JVM options, the body committed to SQLite before the 202.
  # shellcheck disable=SC2086
  java $jvm_defaults -cp "$jar" org.buildhook.benchmarks.limits.DurableServlet "$durable_port" "$work/durable" \
      > "$work/durable.log" 2>&1 &
  durable_pid=$!
  pids+=("$durable_pid")
  if [[ -n ${BUILDHOOK_BENCH_PG_URL:-} ]]; then # the same on PostgreSQL, in a schema of its own
    mkdir -p "$work/accept-pg/data"
    cp "$dir/rules.yaml" "$work/accept-pg/"
    sed -e "s|^data-dir: .*|data-dir: $work/accept-pg/data|" -e "s|^  port: .*|  port: $pg_port|" \
        "$dir/buildhook.yaml" > "$work/accept-pg/buildhook.yaml"
    pg_schema
    echo "store: {url: \"$pg_url\"}" >> "$work/accept-pg/buildhook.yaml"
    (cd "$work/accept-pg" && exec "$server" serve --config "$work/accept-pg/buildhook.yaml" \
        > "$work/accept-pg/serve.out" 2>&1) &
    pg_pid=$!
    pids+=("$pg_pid")
    bench_wait_for_port "$pg_port"
  fi
  bench_wait_for_port "$port"
  bench_wait_for_port "$bare_port"
  bench_wait_for_port "$durable_port"
  # ROUNDS rounds, each reference right before what it bounds: on a shared machine the load moves
  # within seconds, so each round's ratio compares like with like; the summary averages the rounds.
  for round in $(seq 1 "$rounds"); do
    # 1. durable accept against the fsync ceiling of the same file system
    java -cp "$jar" org.buildhook.benchmarks.limits.FsyncCeiling "$dir/data" "$concurrency" 3 \
        | tee "$work/fsync-$round.out"
    quick durable-floor "$round" "$durable_pid" "http://127.0.0.1:$durable_port/webhook" 202
    quick buildhook-202 "$round" "$pid" "http://127.0.0.1:$port/webhook" 202
    [[ -z $pg_pid ]] || quick buildhook-pg-202 "$round" "$pg_pid" "http://127.0.0.1:$pg_port/webhook" 202
    # 2. refusals against the bare servlet
    quick bare-servlet "$round" "$bare_pid" "http://127.0.0.1:$bare_port/webhook/no-such-endpoint" 404
    quick buildhook-404 "$round" "$pid" "http://127.0.0.1:$port/webhook/no-such-endpoint" 404
    quick buildhook-401 "$round" "$pid" "http://127.0.0.1:$port/webhook" 401 --wrong-secret true
  done
  kill -TERM "$pid" "$bare_pid" "$durable_pid" $pg_pid; wait "$pid" || true; wait "$bare_pid" || true
  wait "$durable_pid" || true
  [[ -z $pg_pid ]] || wait "$pg_pid" || true
}

run_floor() { # the same command by a bare ProcessBuilder loop, as many at once as buildhook's runner
  # The launch buildhook uses (posix_spawn with POSIX_SPAWN_SETSID, NativeSpawn), then the one before it.
  # shellcheck disable=SC2086
  java $jvm_defaults -cp "$jar" org.buildhook.benchmarks.limits.ProcessFloor "$work/trace.sh" "$work/trace-native" \
      "$requests" "$threads" --native --clk-tck "$(getconf CLK_TCK)" | tee "$work/process-floor-native.out"
  # shellcheck disable=SC2086
  java $jvm_defaults -cp "$jar" org.buildhook.benchmarks.limits.ProcessFloor "$work/trace.sh" "$work/trace-floor" \
      "$requests" "$threads" --clk-tck "$(getconf CLK_TCK)" | tee "$work/process-floor-setsid.out"
  # shellcheck disable=SC2086
  java $jvm_defaults -cp "$jar" org.buildhook.benchmarks.limits.ProcessFloor "$work/trace.sh" "$work/trace-plain" \
      "$requests" "$threads" --no-setsid --clk-tck "$(getconf CLK_TCK)" | tee "$work/process-floor-plain.out"
  (( compare_options == 1 )) || return 0
  # Through jspawnhelper (Java's default launch, what buildhook shipped before VFORK), with setsid.
  java -XX:TieredStopAtLevel=1 -Djdk.lang.Process.launchMechanism=POSIX_SPAWN -cp "$jar" \
      org.buildhook.benchmarks.limits.ProcessFloor "$work/trace.sh" "$work/trace-spawnhelper" "$requests" "$threads" \
      --label process-floor-spawnhelper --clk-tck "$(getconf CLK_TCK)" | tee "$work/process-floor-spawnhelper.out"
}

run_startup() {
  (( startup_runs > 0 )) || return 0
  STARTUP_LABEL=startup-shipped STARTUP_PORT=18094 "$top/benchmarks/scripts/startup.sh" "$startup_runs" \
      | tee "$work/startup-shipped.out"
  BUILDHOOK_JVM_DEFAULTS= STARTUP_LABEL=startup-jvm-defaults STARTUP_PORT=18094 \
      "$top/benchmarks/scripts/startup.sh" "$startup_runs" | tee "$work/startup-jvm-defaults.out"
  [[ -n ${BUILDHOOK_BENCH_PG_URL:-} ]] || return 0
  # On PostgreSQL, shipped options: the node's RSS, and its watchdog process's beside it.
  pg_schema
  STARTUP_STORE_URL=$pg_url STARTUP_LABEL=startup-pg-shipped STARTUP_PORT=18094 \
      "$top/benchmarks/scripts/startup.sh" "$startup_runs" | tee "$work/startup-pg-shipped.out"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); $(lscpu | sed -n 's/^Model name: *//p'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# requests $requests, warm-up $warmup, concurrency $concurrency; paced: $paced at $rate/s; buildhook runner.threads $threads; $(webhook -version)"
echo "# the machine is shared: other processes $(ps -e --no-headers | wc -l), running now $(sed -n 's/^procs_running //p' /proc/stat)"
run_limits
if [[ ${ONLY_LIMITS:-} == 1 ]]; then
  python3 "$top/benchmarks/scripts/summary.py" "$work"
  exit 0
fi
labels=(buildhook-sqlite)
[[ -z ${BUILDHOOK_BENCH_PG_URL:-} ]] || labels+=(buildhook-pg)
run_buildhooks() {
  run_buildhook buildhook-sqlite ""
  if [[ -n ${BUILDHOOK_BENCH_PG_URL:-} ]]; then
    pg_schema
    run_buildhook buildhook-pg "store: {url: \"$pg_url\"}"
  fi
}
for round in $(seq 1 "$job_rounds"); do
  sfx=-r$round
  echo "# job round $round of $job_rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  if (( round % 2 == 1 )); then
    run_adnanh
    run_buildhooks
  else
    run_buildhooks
    run_adnanh
  fi
done
sfx=
if (( compare_options == 1 )); then
  run_buildhook buildhook-sqlite-setsid "" "$jvm_defaults -Dbuildhook.launch=setsid"
  run_buildhook buildhook-sqlite-c2 "" "$launch_opt"
  labels+=(buildhook-sqlite-setsid buildhook-sqlite-c2)
fi
run_floor
run_startup
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The mean of a figure over the runs labelled $1 (one per job round), from their RESULT lines.
value() {
  cat "$work"/*.out | sed -n "s/^RESULT label=$1 .* $2=\([^ ]*\).*/\1/p" \
      | awk '{ s += $1; n++ } END { if (n) printf "%.3f", s / n }'
}
# The same figure of one round's run ($3: "-r2").
round_value() { sed -n "s/^RESULT label=$1 .* $2=\([^ ]*\).*/\1/p" "$work/$1$3.out"; }
echo
printf '%-18s %11s %8s %11s %14s %7s %18s %18s %11s\n' receiver accepted/s p99_ms all_done_s start_p50_ms errors \
    paced_p99_ms paced_start_p50_ms cpu_ms/del
for l in "${labels[@]}" adnanh; do
  printf '%-18s %11s %8s %11s %14s %7s %18s %18s %11s\n' "$l" "$(value "$l" accepted_per_s)" "$(value "$l" p99_ms)" \
      "$(value "$l" all_done_s)" "$(value "$l" start_p50_ms)" "$(value "$l" errors)" \
      "$(value "$l-paced" p99_ms)" "$(value "$l-paced" start_p50_ms)" "$(value "$l" cpu_ms_per_delivery)"
done
for l in "${labels[@]}"; do
  python3 - "$l" "$(value "$l" accepted_per_s)" "$(value adnanh accepted_per_s)" "$(value "$l" p99_ms)" \
      "$(value adnanh p99_ms)" "$(value "$l" all_done_s)" "$(value adnanh all_done_s)" <<'PY'
import sys
l, a, b, p, q, d, e = sys.argv[1], *map(float, sys.argv[2:])
print(f"{l}/adnanh: accepted/s x{a / b:.2f}, p99 x{p / q:.2f}, all commands done x{d / e:.2f}")
PY
done
for round in $(seq 1 "$job_rounds"); do
  for l in "${labels[@]}"; do
    [[ -e $work/$l-r$round.out ]] || continue
    python3 - "$l" "$round" "$(round_value "$l" accepted_per_s "-r$round")" \
        "$(round_value adnanh accepted_per_s "-r$round")" "$(round_value "$l" cpu_ms_per_delivery "-r$round")" \
        "$(round_value adnanh cpu_ms_per_delivery "-r$round")" "$(round_value "$l" all_done_s "-r$round")" \
        "$(round_value adnanh all_done_s "-r$round")" <<'PY'
import sys
l, r, a, b, c, d, e, f = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
print(f"round {r}: {l}/adnanh: accepted/s x{a / b:.2f}, CPU per delivery x{c / d:.2f}, all commands done x{e / f:.2f}")
PY
  done
done
python3 "$top/benchmarks/scripts/summary.py" "$work"
