#!/usr/bin/env bash
# Container image figures for docs/BENCHMARKS.md: build time (without layer cache), image size,
# and `podman run` to /healthz 200.
#   mvn -B -q package -DskipTests && benchmarks/scripts/container.sh [runs]
# Needs root, podman and the base image of distribution/src/test/container/build-images.sh
# (made if missing; its debootstrap is timed then). Honours CONTAINERS_CONF (default: that
# folder's containers.conf). Env: CONTAINER_PORT (default 18081); CONTAINER_PAIRS=N: after the runs,
# N alternating pairs of new containers with the image's class-data archive and without it
# (-e BUILDHOOK_CDS_DIR=), each to /healthz 200 with the JVM's CPU time (user + system) at that moment.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-3}
port=${CONTAINER_PORT:-18081}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$top/distribution/src/test/container/containers.conf}
base=localhost/buildhook-base:bookworm
image=localhost/buildhook-bench:latest
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

if ! podman image exists "$base"; then
  start=$(date +%s%N)
  "$top/distribution/src/test/container/build-images.sh"
  echo "RESULT container base images (debootstrap + PostgreSQL stand-in): $(ms "$start") ms"
fi
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$top"/distribution/target/buildhook-*.tar.gz "$context/"
start=$(date +%s%N)
podman build -q --no-cache --pull=never --network=host --format docker --build-arg "BASE_IMAGE=$base" \
  -t "$image" -f "$top/distribution/src/main/container/Containerfile" "$context" >/dev/null
echo "RESULT container build (no layer cache, apt-get included): $(ms "$start") ms"
echo "RESULT container image size: $(podman image inspect --format '{{.Size}}' "$image") bytes (base: $(podman image inspect --format '{{.Size}}' "$base") bytes)"
for run in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  podman run -d --name buildhook-bench -p "127.0.0.1:$port:8080" "$image" >/dev/null 2>&1
  until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
    [ $(( $(date +%s%N) - start )) -lt 120000000000 ] || { echo "not healthy within 120 s" >&2; break; }
    sleep 0.05
  done
  echo "RESULT container run $run: podman run -> /healthz 200: $(ms "$start") ms"
  sleep 10
  echo "RESULT container run $run: memory after 10 s idle: $(podman stats --no-stream --format '{{.MemUsage}}' buildhook-bench 2>/dev/null || echo 'n/a (no cgroup statistics)')"
  podman rm -f -v -t 0 buildhook-bench >/dev/null 2>&1
done
# One new container to /healthz 200: "<ms> ms, JVM CPU <ms> ms, archive mapped: <yes|no>". $@: podman run options.
start_once() {
  local start cpu mapped
  start=$(date +%s%N)
  podman run -d --name buildhook-bench -p "127.0.0.1:$port:8080" "$@" "$image" >/dev/null 2>&1
  until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
    [ $(( $(date +%s%N) - start )) -lt 120000000000 ] || { echo "not healthy within 120 s" >&2; break; }
    sleep 0.05
  done
  local took
  took=$(ms "$start")
  # utime + stime of the container's java, in clock ticks (getconf CLK_TCK, 100 on Linux)
  cpu=$(podman exec buildhook-bench sh -c 'for p in /proc/[0-9]*; do if [ "$(cat $p/comm)" = java ]; then
      cut -d " " -f 14,15 $p/stat; break; fi; done' | awk -v hz="$(getconf CLK_TCK)" '{ print int(($1 + $2) * 1000 / hz) }')
  mapped=$(podman exec buildhook-bench sh -c "grep -l '/var/cache/buildhook/.*jsa' /proc/[0-9]*/maps 2>/dev/null" >/dev/null && echo yes || echo no)
  podman rm -f -v -t 0 buildhook-bench >/dev/null 2>&1
  echo "$took ms, JVM CPU $cpu ms, archive mapped: $mapped"
}
for pair in $(seq 1 "${CONTAINER_PAIRS:-0}"); do
  echo "RESULT container pair $pair: with the image's class-data archive: $(start_once)"
  echo "RESULT container pair $pair: without (-e BUILDHOOK_CDS_DIR=): $(start_once -e BUILDHOOK_CDS_DIR=)"
done
podman rmi "$image" >/dev/null
podman image prune -f >/dev/null
