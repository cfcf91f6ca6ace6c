#!/usr/bin/env bash
# Makes the images the container tests build on, on machines that cannot pull from a registry:
#   localhost/buildhook-base:bookworm      Debian 12 minbase made with debootstrap, trimmed like
#                                          debian:bookworm-slim (no docs, man pages, apt lists)
#   localhost/buildhook-test-postgres:15   Debian's postgresql package on that base, with the
#                                          POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB contract of
#                                          the official postgres image (see postgres/Containerfile)
# Idempotent: an image that already exists is kept (remove it to make it again).
# The Debian mirror is the one in this machine's apt sources; none is written here.
# Needs root, podman and debootstrap. Honours CONTAINERS_CONF (see containers.conf beside this file).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)

BASE_IMAGE=${BUILDHOOK_BASE_IMAGE:-localhost/buildhook-base:bookworm}
POSTGRES_IMAGE=${BUILDHOOK_POSTGRES_IMAGE:-localhost/buildhook-test-postgres:15}

# The first Debian (not security) mirror of apt's sources, one-line or deb822 format.
debian_mirror() {
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  local f
  for f in "${files[@]}"; do
    [ -r "$f" ] || continue
    case $f in
      *.sources)
        awk 'tolower($1)=="uris:" {for (i=2;i<=NF;i++) print $i}' "$f" ;;
      *)
        awk '$1=="deb" {for (i=2;i<=NF;i++) if ($i ~ /^[a-z+]+:\/\//) {print $i; break}}' "$f" ;;
    esac
  done | grep -v -e '-security' -e '^cdrom:' | head -n 1
}

if podman image exists "$BASE_IMAGE"; then
  echo "build-images: $BASE_IMAGE exists"
else
  mirror=$(debian_mirror)
  if [ -z "$mirror" ]; then
    echo "build-images: no Debian mirror found in /etc/apt/sources.list{,.d}; add one, or make $BASE_IMAGE yourself" >&2
    exit 1
  fi
  rootfs=$(mktemp -d /tmp/buildhook-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "build-images: debootstrap bookworm from the machine's mirror into $rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { cat "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"
  # What debian:bookworm-slim does: no documentation from later installs, no apt caches.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/man "$rootfs"/usr/share/info "$rootfs"/usr/share/locale
  find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
  tar -C "$rootfs" --numeric-owner -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  echo "build-images: made $BASE_IMAGE"
fi

if podman image exists "$POSTGRES_IMAGE"; then
  echo "build-images: $POSTGRES_IMAGE exists"
else
  podman build --pull=never --network=host --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -t "$POSTGRES_IMAGE" "$here/postgres"
  echo "build-images: made $POSTGRES_IMAGE"
fi
