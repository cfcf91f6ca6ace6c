#!/usr/bin/env bash
# The trade of buildhook's JVM options (docs/BENCHMARKS.md, "JVM options"): for each set of options,
# one standalone server (SQLite) in a fresh folder, and the server's CPU per delivery (with the
# commands it ran) over REQUESTS deliveries from 16 senders, after PRE deliveries that are not
# counted (so the JIT's work after start is in the first figure and not in the second).
#   mvn -B -q package -DskipTests
#   benchmarks/scripts/jvm-options.sh accept|jobs REQUESTS PRE 'label=options' ...
# e.g.: benchmarks/scripts/jvm-options.sh accept 4000 15000 'c1=-XX:TieredStopAtLevel=1' 'c2='
# accept: a rule that matches nothing (the durable 202 alone); jobs: each delivery runs trace.sh.
# Prints per set: RESULT label=… accepted_per_s=… p99_ms=… [all_done_s=…] cpu_ms_per_delivery=… listen_ms=…
# rss_mib=… (5 s after listening) load=….
# Per-thread CPU per delivery goes to THREADS_DIR (if set) as threads-<label>.txt (thread-cpu.py).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mode=$1 requests=$2 pre=$3
shift 3
jar=$top/benchmarks/target/benchmarks.jar
server=$top/distribution/target/buildhook/bin/buildhook
port=${PORT:-18190}
work=$(mktemp -d /tmp/jvm-options.XXXXXX)
pid=
cleanup() { [[ -z $pid ]] || kill -TERM "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# shellcheck source=common.sh
source "$top/benchmarks/scripts/common.sh"
bench_secret "$work"
bench_trace_script "$work"
send() { # first-build-id requests [--trace FILE]
  java -cp "$jar" org.buildhook.benchmarks.load.LoadGenerator --url "http://127.0.0.1:$port/webhook" --style jobserv \
      --secret-file "$work/secret" --fixture "$top/fixtures/build-67-passed.json" --first-build-id "$1" \
      --requests "$2" --warmup 0 --concurrency 16 "${@:3}"
}
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); mode $mode, $requests deliveries after $pre; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for set in "$@"; do
  label=${set%%=*} options=${set#*=} dir=$work/$label
  mkdir -p "$dir" "$work/traces" # the trace out of dir, the rules watcher's folder
  if [[ $mode == jobs ]]; then
    bench_config "$dir" "$port" "$work/secret" "$work/trace.sh" "$work/traces/$label"
  else
    bench_config "$dir" "$port" "$work/secret"
  fi
  start=$(date +%s%N)
  (cd "$dir" && BUILDHOOK_JVM_DEFAULTS="$options" exec "$server" serve --config "$dir/buildhook.yaml" > "$dir/serve.out" 2>&1) &
  pid=$!
  bench_wait_for_port "$port"
  listen_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 5
  rss=$(ps -o rss= -p "$pid" | tr -d ' ')
  trace=(); [[ $mode == jobs ]] && trace=(--trace "$work/traces/$label")
  (( pre == 0 )) || send 9000000 "$pre" "${trace[@]}" > "$dir/pre.out"
  python3 "$top/benchmarks/scripts/thread-cpu.py" "$pid" > "$dir/before.txt"
  before=$(bench_cpu_ticks "$pid")
  send 1000000 "$requests" "${trace[@]}" > "$dir/load.out"
  after=$(bench_cpu_ticks "$pid")
  python3 "$top/benchmarks/scripts/thread-cpu.py" "$pid" > "$dir/after.txt"
  [[ -z ${THREADS_DIR:-} ]] || python3 "$top/benchmarks/scripts/thread-cpu.py" --diff "$dir/before.txt" "$dir/after.txt" \
      "$requests" > "$THREADS_DIR/threads-$label.txt"
  kill -TERM "$pid"; wait "$pid" || true; pid=
  result=$(sed -n 's/^RESULT //p' "$dir/load.out")
  cpu=$(python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) * 1000 / int(sys.argv[3]) / int(sys.argv[4]):.3f}')" \
      "$before" "$after" "$(getconf CLK_TCK)" "$requests")
  field() { echo "$result" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  done_s=; [[ $mode != jobs ]] || done_s=" all_done_s=$(field all_done_s)"
  echo "RESULT label=$label options='$options' accepted_per_s=$(field accepted_per_s) p99_ms=$(field p99_ms)$done_s" \
      "cpu_ms_per_delivery=$cpu listen_ms=$listen_ms rss_mib=$(( rss / 1024 )) load=$(cut -d' ' -f1 /proc/loadavg)"
done
