#!/usr/bin/env bash
# Server CPU per request of two (or more) buildhook builds, A/B alternating (docs/BENCHMARKS.md,
# "Third pass: the request path"):
#   accept-cpu.sh N ROUNDS KINDS LABEL=INSTALL-DIR LABEL=INSTALL-DIR ...
#   e.g. cp -a distribution/target/buildhook /tmp/before   # built from the commit before the change
#        mvn -B -q package -DskipTests                     # the change
#        benchmarks/scripts/accept-cpu.sh 5000 2 404,401,202 before=/tmp/before after=distribution/target/buildhook
# KINDS: a comma list of 404 (unknown endpoint, body read), 401 (wrong signature), 202 (durable
# accept, SQLite, a rule that matches nothing). All servers run at once, each with its own data
# folder and the same configuration, serve.out next to rules.yaml as in vs-adnanh.sh; each is warmed
# with 4,000 requests of each kind, then every round sends N of each kind to each server in turn
# (the order reversed every other round) and prints the server's CPU (utime + stime of the whole
# JVM) per request. On a shared machine the rates move with the neighbours; the CPU moves far less.
# With BARE=1 the bare Jetty servlet of vs-adnanh.sh (limits.BareServlet: reads the body, answers a
# small JSON 404; the shipped JVM options) runs beside them as "bare", measured the same way for every
# kind (it answers 404 to all), so that each figure has its reference from the same minutes.
# Env: JAVA_OPTS (every server's), CONCURRENCY (16), BARE.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
(( $# >= 4 )) || { echo "usage: accept-cpu.sh N ROUNDS KINDS LABEL=INSTALL-DIR ..." >&2; exit 2; }
n=$1; rounds=$2; kinds=$3; shift 3
jar=$top/benchmarks/target/benchmarks.jar
fixture=$top/fixtures/build-67-passed.json
[[ -e $jar ]] || { echo "accept-cpu.sh: $jar is missing; run: mvn -B -q package -DskipTests" >&2; exit 2; }
work=$(mktemp -d /tmp/accept-cpu.XXXXXX)
# shellcheck source=common.sh
source "$top/benchmarks/scripts/common.sh"
bench_secret "$work"
labels=(); pids=(); ports=(); port=18300
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for spec in "$@"; do
  label=${spec%%=*}; home=$(cd "${spec#*=}" && pwd); port=$((port + 1)); dir=$work/$label
  mkdir -p "$dir/data"
  bench_config "$dir" "$port" "$work/secret"
  (cd "$dir" && exec "$home/bin/buildhook" serve --config "$dir/buildhook.yaml" > "$dir/serve.out" 2>&1) &
  pids+=("$!"); labels+=("$label"); ports+=("$port")
done
if [[ ${BARE:-} == 1 ]]; then
  port=$((port + 1))
  # shellcheck disable=SC2086 # the JVM options are a list
  java -XX:TieredStopAtLevel=1 ${JAVA_OPTS:-} -cp "$jar" org.buildhook.benchmarks.limits.BareServlet "$port" \
      > "$work/bare.out" 2>&1 &
  pids+=("$!"); labels+=(bare); ports+=("$port")
fi
for p in "${ports[@]}"; do
  bench_wait_for_port "$p"
done
url() { # kind port
  case $1 in 404) echo "http://127.0.0.1:$2/webhook/no-such-endpoint" ;; *) echo "http://127.0.0.1:$2/webhook" ;; esac
}
build_id=1000000
one() { # server-index kind count: prints the server's CPU per request in ms
  local i=$1 kind=$2 count=$3 before after extra=()
  [[ $kind == 401 ]] && extra=(--wrong-secret true)
  [[ ${labels[$i]} == bare ]] && kind=404
  build_id=$((build_id + 100000))
  before=$(awk '{print $14 + $15}' "/proc/${pids[$i]}/stat")
  java -XX:TieredStopAtLevel=1 -cp "$jar" org.buildhook.benchmarks.load.LoadGenerator --label "${labels[$i]}-$kind" \
      --url "$(url "$kind" "${ports[$i]}")" --style jobserv --secret-file "$work/secret" --fixture "$fixture" \
      --expect "$kind" --first-build-id "$build_id" --requests "$count" --warmup 0 \
      --concurrency "${CONCURRENCY:-16}" "${extra[@]}" > "$work/last.out" 2>&1 || { cat "$work/last.out" >&2; exit 1; }
  after=$(awk '{print $14 + $15}' "/proc/${pids[$i]}/stat")
  python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) * 1000 / int(sys.argv[3]) / int(sys.argv[4]):.3f}')" \
      "$before" "$after" "$(getconf CLK_TCK)" "$count"
}
for kind in ${kinds//,/ }; do for i in "${!pids[@]}"; do one "$i" "$kind" 4000 > /dev/null; done; done
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg); N=$n per kind and server"
for round in $(seq 1 "$rounds"); do
  for kind in ${kinds//,/ }; do
    order=("${!pids[@]}")
    (( round % 2 == 0 )) && mapfile -t order < <(printf '%s\n' "${!pids[@]}" | tac)
    for i in "${order[@]}"; do
      echo "round $round $kind ${labels[$i]} $(one "$i" "$kind" "$n") ms server CPU per request"
    done
  done
done
