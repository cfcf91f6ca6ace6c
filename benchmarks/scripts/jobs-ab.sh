#!/usr/bin/env bash
# Accepting while jobs run, for two (or more) buildhook builds, A/B one after the other (docs/BENCHMARKS.md,
# "Third pass: accepting while jobs run"):
#   jobs-ab.sh N PRE LABEL=INSTALL-DIR LABEL=INSTALL-DIR ...
#   e.g. cp -a distribution/target/buildhook /tmp/before   # built from the commit before the change
#        mvn -B -q package -DskipTests                     # the change
#        benchmarks/scripts/jobs-ab.sh 3000 500 before1=/tmp/before after1=distribution/target/buildhook \
#            before2=/tmp/before after2=distribution/target/buildhook
# Each set: a fresh standalone server (SQLite, runner.threads 4, the shipped JVM options) whose one rule runs
# trace.sh for every delivery, as in vs-adnanh.sh (its lines in RUN/traces/LABEL, out of the rules file's folder:
# before scan33 they were in RUN/LABEL/trace, which woke the rules watcher ~20 times a second); PRE deliveries not counted, then N from 16 senders. Prints
# per set: accepted/s, answer p99, all commands done, send -> command start p50, and the server's CPU per
# delivery (the JVM and the commands it reaped); the per-thread CPU per delivery (thread-cpu.py) is left in
# RUN/LABEL/threads.txt. A LABEL that begins with "niced" renices the job side (db-scheduler's and the job
# threads, whose commands inherit it) by +10 after the warm-up; one that begins with "nicedpool" only db-scheduler's
# job threads (the bookkeeping; the commands are started by the buildhook-job threads and keep their priority). Env: JAVA_OPTS (every server's), PORT (18290);
# STORE=pg with BUILDHOOK_BENCH_PG_URL=jdbc:postgresql://…?user=…&password=…: every set on PostgreSQL, each in a
# new schema of its own (dropped at the end), instead of SQLite; then each RESULT line also has the CPU of the
# server's PostgreSQL backends and the data segments the server sent them, per delivery (pg-backends.py). PERF=1: `perf record -g` of the server (its
# threads and the commands they start) around the N deliveries, into RUN/LABEL/perf.data; with JAVA_OPTS=
# "-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer" the Java frames have names
# and whole stacks; perf-frames.py RUN/LABEL/perf.data THREAD-REGEX reads it (docs/BENCHMARKS.md, "Fifth pass").
# MODE=nomatch: the rule matches nothing (the durable 202 alone, no job: all_done_s and start_p50_ms are empty).
# HOOK=COMMAND: runs `COMMAND start SERVER-PID RUN/LABEL` just before the N deliveries and `COMMAND stop SERVER-PID
# RUN/LABEL` just after them (a profiler, docs/BENCHMARKS.md, "Seventh pass").
# RATE=R: the N deliveries paced at R per second from 4 senders (as vs-adnanh.sh's paced run) instead of a burst
# from 16: start_p50_ms is then the send -> command start delay of a server that is not saturated. The PRE deliveries
# are paced too, unless PRE_BURST=1: then they come from 16 senders as fast as answered, waited for to their last
# command, as vs-adnanh.sh's saturating run before its paced one. Each set leaves RUN/LABEL/load.lat (build id, send
# time in µs since the epoch, answer ms: its first 4 lines are the senders' first requests). LOAD_JAR: the load
# generator's jar (default: benchmarks/target/benchmarks.jar), e.g. one built from another commit, to compare two
# generators on the same server build (docs/BENCHMARKS.md, "Thirty-second pass").
# create_us=B/A: the system CPU of one file creation in the set's folder just before and just after the N deliveries
# (create-cost.py): a job creates three (payload copy, log folder, log file), and on this machine's ext4 without a
# journal their price follows what other programs deleted nearby in the last minutes (docs/BENCHMARKS.md,
# "Twenty-third pass"); compare only sets whose create_us are alike.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
(( $# >= 3 )) || { echo "usage: jobs-ab.sh N PRE LABEL=INSTALL-DIR ..." >&2; exit 2; }
requests=$1 pre=$2
shift 2
jar=$top/benchmarks/target/benchmarks.jar
[[ -e $jar ]] || { echo "jobs-ab.sh: $jar is missing; run: mvn -B -q package -DskipTests" >&2; exit 2; }
port=${PORT:-18290}
work=$(mktemp -d /tmp/jobs-ab.XXXXXX)
pid=
pg_schemas=()
cleanup() {
  [[ -z $pid ]] || kill -TERM "$pid" 2>/dev/null || true
  [[ -z $pid ]] || wait "$pid" 2>/dev/null || true
  for s in "${pg_schemas[@]}"; do bench_psql -q -c "DROP SCHEMA $s CASCADE" >/dev/null || true; done
}
trap cleanup EXIT
if [[ ${STORE:-sqlite} == pg ]]; then
  [[ -n ${BUILDHOOK_BENCH_PG_URL:-} ]] || { echo "jobs-ab.sh: STORE=pg needs BUILDHOOK_BENCH_PG_URL" >&2; exit 2; }
fi
# shellcheck source=common.sh
source "$top/benchmarks/scripts/common.sh"
[[ ${STORE:-sqlite} != pg ]] || bench_pg
bench_secret "$work"
bench_trace_script "$work"
send() { # first-build-id requests trace-file
  local trace=(--trace "$3")
  [[ ${MODE:-jobs} != nomatch ]] || trace=()
  java -cp "${LOAD_JAR:-$jar}" org.buildhook.benchmarks.load.LoadGenerator --url "http://127.0.0.1:$port/webhook" \
      --style jobserv --secret-file "$work/secret" --fixture "$top/fixtures/build-67-passed.json" --first-build-id "$1" \
      --requests "$2" --warmup 0 "${pace[@]}" "${trace[@]}" "${@:4}"
}
pace=(--concurrency 16)
[[ -z ${RATE:-} ]] || pace=(--concurrency 4 --rate "$RATE")
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'); ${STORE:-sqlite}; $requests deliveries after $pre; load average $(cut -d' ' -f1-3 /proc/loadavg); run $work"
for set in "$@"; do
  label=${set%%=*} install=$(cd "${set#*=}" && pwd) dir=$work/$label
  # Out of dir (rules.yaml's folder, which the rules watcher watches): RUN/traces/LABEL.
  trace=$work/traces/$label
  mkdir -p "$dir" "$work/traces"
  if [[ ${MODE:-jobs} == nomatch ]]; then
    bench_config "$dir" "$port" "$work/secret"
  else
    bench_config "$dir" "$port" "$work/secret" "$work/trace.sh" "$trace"
  fi
  if [[ ${STORE:-sqlite} == pg ]]; then
    schema=bench_$(python3 -c 'import secrets; print(secrets.token_hex(6))')
    bench_psql -q -c "CREATE SCHEMA $schema" >/dev/null
    pg_schemas+=("$schema")
    echo "store: {url: \"$BUILDHOOK_BENCH_PG_URL&currentSchema=$schema\"}" >> "$dir/buildhook.yaml"
  fi
  (cd "$dir" && exec "$install/bin/buildhook" serve --config "$dir/buildhook.yaml" > "$dir/serve.out" 2>&1) &
  pid=$!
  bench_wait_for_port "$port"
  sleep 2
  if (( pre > 0 )) && [[ ${PRE_BURST:-0} == 1 ]]; then
    measured_pace=("${pace[@]}")
    pace=(--concurrency 16)
    send 9000000 "$pre" "$trace" > "$dir/pre.out"
    pace=("${measured_pace[@]}")
  elif (( pre > 0 )); then
    send 9000000 "$pre" "$trace" > "$dir/pre.out"
  fi
  if [[ $label == nicedpool* ]]; then
    for t in /proc/$pid/task/*; do
      case $(cat "$t/comm") in db-scheduler-po*) renice -n 10 -p "${t##*/}" > /dev/null;; esac
    done
  elif [[ $label == niced* ]]; then
    for t in /proc/$pid/task/*; do
      case $(cat "$t/comm") in db-scheduler-po*|buildhook-job*|"process reaper") renice -n 10 -p "${t##*/}" > /dev/null;; esac
    done
  fi
  python3 "$top/benchmarks/scripts/thread-cpu.py" "$pid" > "$dir/before.txt"
  [[ ${STORE:-sqlite} != pg ]] || PGPASSWORD=$bench_pg_password python3 "$top/benchmarks/scripts/pg-backends.py" "$pid" "$bench_pg_libpq" \
      > "$dir/pg-before.txt"
  perf_pid=
  if [[ ${PERF:-0} == 1 ]]; then
    perf record -F "${PERF_FREQUENCY:-1999}" -g -p "$pid" -o "$dir/perf.data" 2> "$dir/perf.err" &
    perf_pid=$!
  fi
  [[ -z ${HOOK:-} ]] || "$HOOK" start "$pid" "$dir"
  create_before=$(python3 "$top/benchmarks/scripts/create-cost.py" "$dir/create-probe-before")
  before=$(bench_cpu_ticks "$pid")
  send 1000000 "$requests" "$trace" --latencies "$dir/load.lat" > "$dir/load.out"
  after=$(bench_cpu_ticks "$pid")
  create_after=$(python3 "$top/benchmarks/scripts/create-cost.py" "$dir/create-probe-after")
  [[ -z ${HOOK:-} ]] || "$HOOK" stop "$pid" "$dir"
  [[ -z $perf_pid ]] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
  python3 "$top/benchmarks/scripts/thread-cpu.py" "$pid" > "$dir/after.txt"
  pg=
  if [[ ${STORE:-sqlite} == pg ]]; then
    PGPASSWORD=$bench_pg_password python3 "$top/benchmarks/scripts/pg-backends.py" "$pid" "$bench_pg_libpq" \
      > "$dir/pg-after.txt"
    pg=" $(python3 "$top/benchmarks/scripts/pg-backends.py" --diff "$dir/pg-before.txt" "$dir/pg-after.txt" "$requests")"
  fi
  python3 "$top/benchmarks/scripts/thread-cpu.py" --diff "$dir/before.txt" "$dir/after.txt" "$requests" > "$dir/threads.txt"
  kill -TERM "$pid"; wait "$pid" || true; pid=
  result=$(sed -n 's/^RESULT //p' "$dir/load.out")
  field() { echo "$result" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  cpu=$(python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) * 1000 / int(sys.argv[3]) / int(sys.argv[4]):.2f}')" \
      "$before" "$after" "$(getconf CLK_TCK)" "$requests")
  echo "RESULT label=$label accepted_per_s=$(field accepted_per_s) p99_ms=$(field p99_ms) all_done_s=$(field all_done_s)" \
      "start_p50_ms=$(field start_p50_ms) cpu_ms_per_delivery=$cpu$pg create_us=$create_before/$create_after" \
      "load=$(cut -d' ' -f1 /proc/loadavg)"
done
