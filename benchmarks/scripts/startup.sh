#!/usr/bin/env bash
# Start-up to first 202 and idle memory of the standalone server (docs/BENCHMARKS.md).
#   mvn -B -q package -DskipTests && benchmarks/scripts/startup.sh [runs]
# Starts distribution/target/buildhook/bin/buildhook serve in a fresh folder, posts the signed
# sample body until the first 202, prints the time since launch, then the RSS after 10 s idle.
# (A 200, the duplicate of a first 202 whose answer was not seen, counts as that 202.)
# Env: BUILDHOOK_JVM_DEFAULTS (empty: without the shipped JVM options, see bin/buildhook),
#      BUILDHOOK_CDS_DIR: the class-data archive's folder (bin/buildhook, docs/deploying.md "JVM
#      options"; it persists across runs: the first run with none writes it at its stop, the next
#      ones map it; each RESULT line says which as cds=none|dump|mapped, and the JVM's CPU time
#      until the first 202 as cpu_ms). Unset: the launcher's default since the eighteenth pass,
#      ${XDG_CACHE_HOME:-$HOME/.cache}/buildhook/cds-<checksum of the install folder>; empty
#      (BUILDHOOK_CDS_DIR=): none, the start without an archive,
#      STARTUP_LABEL names the RESULT lines (default startup), STARTUP_PORT (default 18080),
#      STARTUP_TIMEOUT: seconds to wait for the first 202 (default 120; a run that gets none says so
#      and prints first_202_ms=NaN, and the next run starts),
#      STARTUP_STORE_URL: a jdbc:postgresql:… URL (user and password as query parameters, the schema
#      as currentSchema) to start on instead of SQLite: the shipped conf/buildhook.yaml and rules
#      are copied and given that store. On PostgreSQL the server also starts its watchdog process
#      (docs/storage.md); its RSS is printed as watchdog_rss_mib (0 where there is none) and the part of
#      it that is its own (private pages, smaps_rollup), what it adds to the node, as watchdog_private_mib.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
port=${STARTUP_PORT:-18080}
label=${STARTUP_LABEL:-startup}
timeout=${STARTUP_TIMEOUT:-120}
pid=
# A run that fails (no 202 in time) must not leave its server holding the port for the next one.
trap '[[ -z $pid ]] || kill -TERM "$pid" 2>/dev/null || true' EXIT
for run in $(seq 1 "$runs"); do
  work=$(mktemp -d)
  cd "$work"
  config=()
  if [[ -n ${STARTUP_STORE_URL:-} ]]; then
    mkdir conf
    cp "$top/distribution/target/buildhook/conf/buildhook.yaml" "$top/distribution/target/buildhook/conf/rules.yaml" conf/
    echo "store: {url: \"$STARTUP_STORE_URL\"}" >> conf/buildhook.yaml
    config=(--config "$work/conf/buildhook.yaml")
  fi
  start=$(date +%s%N)
  "$top/distribution/target/buildhook/bin/buildhook" serve "${config[@]}" --port "$port" --host 127.0.0.1 > serve.out 2>&1 &
  pid=$!
  if ! python3 - "$port" "$top/fixtures/build-67-passed.json" "$timeout" <<'PY'
import hmac, sys, time, urllib.request, urllib.error, os
port, payload = sys.argv[1], open(sys.argv[2], "rb").read()
deadline = time.time() + int(sys.argv[3])
while time.time() < deadline:
    try:
        secret = open("data/webhook-secret", "rb").read().strip()
        sig = "sha256:" + hmac.new(secret, payload, "sha256").hexdigest()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=payload,
                                     headers={"X-JobServ-Sig": sig, "Content-Type": "application/json"})
        # A long timeout: a request given up on while the server was still busy starting would be
        # stored and answered 202 unseen, and every later one would be its duplicate (200).
        with urllib.request.urlopen(req, timeout=60) as r:
            if r.status in (200, 202):
                sys.exit(0)
    except (OSError, urllib.error.URLError):
        pass
    time.sleep(0.01)
sys.exit(1)
PY
  then
    # Said, not fatal: the runs after it and the caller's summary still count.
    echo "run $run: no 202 within $timeout s (last lines of the server's output follow)"
    tail -n 5 serve.out || true
    echo "RESULT label=$label run=$run first_202_ms=NaN rss_mib=NaN watchdog_rss_mib=NaN watchdog_private_mib=NaN"
    kill -TERM "$pid"; wait "$pid" || true
    pid=
    cd /; rm -rf "$work"
    continue
  fi
  end=$(date +%s%N)
  # The JVM's CPU time (user + system) until the first 202: on a loaded machine less noisy than the time.
  cpu_ms=$(awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$pid/stat")
  sleep 10
  # bin/buildhook execs java, so $pid is the server's JVM; were it a wrapper, its child java would be.
  java_pid=$pid
  [[ $(ps -o comm= -p "$pid") == java ]] || java_pid=$(pgrep -P "$pid" java)
  rss=$(ps -o rss= -p "$java_pid" | tr -d ' ')
  # The watchdog (PostgreSQL only) is the server JVM's child java process.
  watchdog_pid=$(pgrep -P "$java_pid" java || true)
  watchdog_rss=0 watchdog_private=0
  if [[ -n $watchdog_pid ]]; then
    watchdog_rss=$(ps -o rss= -p "$watchdog_pid" | tr -d ' ')
    # What it adds to the node: its own pages only. Most of its RSS is libjvm.so and the JDK's CDS
    # archive, the same file pages as the node's, counted once by the page cache and a cgroup's limit.
    watchdog_private=$(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$watchdog_pid/smaps_rollup")
  fi
  echo "run $run: first 202 after $(( (end - start) / 1000000 )) ms; RSS after 10 s idle: $(( rss / 1024 )) MiB" \
       "(watchdog: RSS $(( watchdog_rss / 1024 )) MiB, of which its own $(( watchdog_private / 1024 )) MiB)"
  cds=none
  if grep -q '\.jsa$' <(grep -v '/lib/server/' "/proc/$java_pid/maps"); then
    cds=mapped
  elif tr '\0' '\n' < "/proc/$java_pid/cmdline" | grep -q '^-XX:ArchiveClassesAtExit='; then
    cds=dump
  fi
  echo "RESULT label=$label run=$run first_202_ms=$(( (end - start) / 1000000 )) rss_mib=$(( rss / 1024 ))" \
       "watchdog_rss_mib=$(( watchdog_rss / 1024 )) watchdog_private_mib=$(( watchdog_private / 1024 )) cpu_ms=$cpu_ms cds=$cds"
  kill -TERM "$pid"; wait "$pid" || true
  pid=
  cd /; rm -rf "$work"
done
