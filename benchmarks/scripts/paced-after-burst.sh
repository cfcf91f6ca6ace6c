#!/usr/bin/env bash
# When do a paced run's slow answers come, and what did the disk do then (docs/BENCHMARKS.md, "Twenty-fourth pass"):
#   paced-after-burst.sh LABEL INSTALL-DIR [N] [PACED]
# A fresh standalone server from INSTALL-DIR (SQLite, runner.threads 4, the shipped JVM options, one rule running
# trace.sh per delivery as in vs-adnanh.sh); 500 warm-up and N (5000) deliveries from 16 senders, waited for to their
# last command; then PACED (400) at 10 per second from 4 senders, as vs-adnanh.sh's paced run but twice as long, while
# fsync-probe.py fdatasyncs 4 KiB of its own in the data folder every 20 ms. Prints both runs' latency lines, every
# paced answer over 15 ms with the probe's fsyncs over 15 ms within 0.5 s before it, and the probe's totals.
# Kept in /tmp/paced-after-burst.LABEL: serve.out, burst.lat and paced.lat (build id, send µs since the epoch, answer
# ms), probe.txt, traces/trace. Env: JAVA_OPTS (e.g. "-XX:StartFlightRecording=filename=/tmp/x.jfr,settings=profile";
# with it set BUILDHOOK_CDS_DIR= too: the JVM turns JFR off while it writes a class-data archive), PORT (18331),
# STORE=pg with BUILDHOOK_BENCH_PG_URL=jdbc:postgresql://…?user=…&password=…: in a new schema, dropped at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
(( $# >= 2 )) || { echo "usage: paced-after-burst.sh LABEL INSTALL-DIR [N] [PACED]" >&2; exit 2; }
label=$1 install=$(cd "$2" && pwd) requests=${3:-5000} paced=${4:-400}
jar=$top/benchmarks/target/benchmarks.jar
[[ -e $jar ]] || { echo "paced-after-burst.sh: $jar is missing; run: mvn -B -q package -DskipTests" >&2; exit 2; }
port=${PORT:-18331}
work=/tmp/paced-after-burst.$label
rm -rf "$work"
mkdir -p "$work"
pid= probe= schema=
cleanup() {
  [[ -z $probe ]] || { kill -TERM "$probe" 2>/dev/null || true; wait "$probe" 2>/dev/null || true; }
  [[ -z $pid ]] || { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  [[ -z $schema ]] || PGOPTIONS='-c client_min_messages=warning' bench_psql -q -c "DROP SCHEMA $schema CASCADE" \
      >/dev/null || true
}
trap cleanup EXIT
# shellcheck source=common.sh
source "$top/benchmarks/scripts/common.sh"
bench_secret "$work"
bench_trace_script "$work"
mkdir -p "$work/traces" # out of $work, the rules watcher's folder
bench_config "$work" "$port" "$work/secret" "$work/trace.sh" "$work/traces/trace"
printf 'runner:\n  threads: 4\n' >> "$work/buildhook.yaml"
if [[ ${STORE:-sqlite} == pg ]]; then
  [[ -n ${BUILDHOOK_BENCH_PG_URL:-} ]] || { echo "paced-after-burst.sh: STORE=pg needs BUILDHOOK_BENCH_PG_URL" >&2; exit 2; }
  schema=bench_$(python3 -c 'import secrets; print(secrets.token_hex(6))')
  bench_pg
  bench_psql -q -c "CREATE SCHEMA $schema" >/dev/null
  echo "store: {url: \"$BUILDHOOK_BENCH_PG_URL&currentSchema=$schema\"}" >> "$work/buildhook.yaml"
fi
(cd "$work" && exec "$install/bin/buildhook" serve --config "$work/buildhook.yaml" > "$work/serve.out" 2>&1) &
pid=$!
bench_wait_for_port "$port"
echo "# $label $(date -u '+%Y-%m-%d %H:%M:%S UTC'); ${STORE:-sqlite}; $requests deliveries, then $paced at 10/s; load average $(cut -d' ' -f1-3 /proc/loadavg); kept in $work"
send() { # label first-build-id requests warm-up latencies [pacing...]
  java -cp "$jar" org.buildhook.benchmarks.load.LoadGenerator --label "$1" --url "http://127.0.0.1:$port/webhook" \
      --style jobserv --secret-file "$work/secret" --fixture "$top/fixtures/build-67-passed.json" --trace "$work/traces/trace" \
      --first-build-id "$2" --requests "$3" --warmup "$4" --latencies "$5" "${@:6}"
}
send "$label" 1000000 "$requests" 500 "$work/burst.lat" --concurrency 16 > "$work/burst.out"
python3 "$top/benchmarks/scripts/fsync-probe.py" "$work/data/fsync-probe.bin" "$work/probe.txt" &
probe=$!
send "$label-paced" 5000000 "$paced" 0 "$work/paced.lat" --concurrency 4 --rate 10 > "$work/paced.out"
kill -TERM "$probe"; wait "$probe" || true; probe=
kill -TERM "$pid"; wait "$pid" || true; pid=
grep -h 'answer latency\|send -> command start' "$work/burst.out" "$work/paced.out"
python3 - "$work/paced.lat" "$work/probe.txt" <<'PY'
import sys, time
probe = []
total = "the probe wrote no total"
for line in open(sys.argv[2]):
    if line.startswith("#"):
        total = line.strip()
        continue
    hms, ms = line.split()
    probe.append((hms, float(ms)))
def clock(micros):
    return time.strftime("%H:%M:%S", time.gmtime(micros / 1e6)) + ".%03d" % (micros // 1000 % 1000)
print("# paced answers over 15 ms, with the probe's fsyncs over 15 ms that began within 0.5 s before them:")
for line in open(sys.argv[1]):
    build, sent, ms = line.split()
    if float(ms) > 15:
        at = clock(int(sent))
        lo = clock(int(sent) - 500_000)
        near = [f"{h} {m:.0f} ms" for h, m in probe if lo <= h <= at and m > 15]
        print(f"{build} sent {at}: {float(ms):.1f} ms; probe: {', '.join(near) or '-'}")
print("# probe during the paced run:", total.lstrip("# "))
PY
