#!/bin/sh
# docker-build.sh builds ordo's static binary on the host and the image FROM
# scratch around it (`make docker` runs it).
#
#   scripts/docker-build.sh [IMAGE [BIN]]     defaults: ordo:dev bin/ordo-static
#
# The SQL parser (pg_query_go) is C, so the binary is built with cgo and
# linked statically against glibc. The netgo and osusergo tags keep glibc's
# getaddrinfo and getpwnam out of it: those would need glibc's shared NSS
# modules at run time, which a scratch image does not have; Go's resolver
# reads the /etc/resolv.conf and /etc/hosts that Docker mounts. The build
# fails if the linker warns about such a function or if the result has an
# ELF interpreter (is not static).
set -eu
cd "$(dirname "$0")/.."
image=${1:-ordo:dev}
bin=${2:-bin/ordo-static}
version=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

mkdir -p "$(dirname "$bin")"
if ! CGO_ENABLED=1 ${GO:-go} build -tags netgo,osusergo \
	-ldflags "-X main.Version=$version -s -w -linkmode external -extldflags -static" \
	-o "$bin" ./cmd/ordo 2>"$log"; then
	cat "$log" >&2
	exit 1
fi
cat "$log" >&2
if grep -q 'statically linked applications requires at runtime' "$log"; then
	echo "docker-build: glibc functions that load shared libraries at run time were linked in (see above)" >&2
	exit 1
fi
if readelf -l "$bin" | grep -q 'INTERP'; then
	echo "docker-build: $bin has an ELF interpreter: it is not static" >&2
	exit 1
fi
"$bin" version >/dev/null
docker build --build-arg BIN="$bin" -t "$image" .
