#!/usr/bin/env bash
# Prints the path of a `promtool` (Prometheus' checker) on stdout, fetching one when needed:
# $PROMTOOL if set, else one on PATH, else one extracted from Debian's `prometheus` package
# into .local/promtool/ (ignored by git). The package is downloaded and unpacked with
# `apt-get download` and `dpkg -x`: nothing is installed and no Prometheus server is started.
# Exits non-zero, saying why, when none can be had.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ -n "${PROMTOOL:-}" ]; then echo "$PROMTOOL"; exit 0; fi
if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi

cache="$ROOT/.local/promtool"
if [ -x "$cache/promtool" ]; then echo "$cache/promtool"; exit 0; fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
  log "no promtool on PATH and no apt-get/dpkg to fetch Debian's prometheus package: install promtool or set PROMTOOL"
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "fetching promtool from Debian's prometheus package (apt-get download, dpkg -x; nothing is installed)"
if ! (cd "$work" && apt-get download prometheus >&2); then
  log "apt-get download prometheus failed (no package lists? run apt-get update): install promtool or set PROMTOOL"
  exit 1
fi
dpkg -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$cache"
cp "$work/root/usr/bin/promtool" "$cache/promtool.tmp"
mv "$cache/promtool.tmp" "$cache/promtool"
echo "$cache/promtool"
