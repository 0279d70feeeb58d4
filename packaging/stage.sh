#!/usr/bin/env bash
# Lays out the self-contained agent tree that both the .deb and the container image ship:
#
#   DEST/node/bin/node      Node.js 22 LTS runtime (official linux-x64 binary, from the npm registry)
#   DEST/node/LICENSE
#   DEST/dist/src/...       the compiled agent (dist/src/cli/main.js is the command)
#   DEST/node_modules/...   production dependencies only, with koffi's linux-x64 native module
#   DEST/package.json       name, version ("cnproc-otel --version" reads it) and "type": "module"
#
# Usage: packaging/stage.sh DEST        (DEST is e.g. ROOT/usr/lib/cnproc-otel; must not exist yet)
# Needs: Node.js >= 20.6 with npm, the npm registry, and the repository's dev dependencies
# (npm ci) for the TypeScript compiler. The runtime tarball is cached in
# ${CNPROC_OTEL_CACHE:-~/.cache/cnproc-otel} by packaging/node-runtime.sh, which pins its version and integrity.
set -euo pipefail

die() {
  echo "stage.sh: $*" >&2
  exit 1
}

[ $# -eq 1 ] || die "usage: packaging/stage.sh DEST"
dest=$1
[ ! -e "$dest" ] || die "$dest already exists"
repo=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$repo/node_modules/.bin/tsc" ] || die "TypeScript is missing: run 'npm ci' in $repo first"

work=$(mktemp -d "${TMPDIR:-/tmp}/cnproc-otel-stage.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. The Node.js runtime (fetched, checked and cached by node-runtime.sh).
runtime=$(bash "$repo/packaging/node-runtime.sh")
install -D -m 0755 "$runtime/bin/node" "$dest/node/bin/node"
install -D -m 0644 "$runtime/LICENSE" "$dest/node/LICENSE"
# The official build carries its full symbol table (about a third of the file); native addons
# resolve Node-API through the dynamic symbol table, which strip keeps.
strip --strip-unneeded "$dest/node/bin/node"
node_version=$("$dest/node/bin/node" --version)

# 2. The compiled agent (src only: no tests, benchmarks, declarations or source maps).
"$repo/node_modules/.bin/tsc" -p "$repo/packaging/tsconfig.dist.json" --outDir "$dest/dist"
[ -f "$dest/dist/src/cli/main.js" ] || die "the compiler did not produce dist/src/cli/main.js"
# main.js's '#!/usr/bin/env node' serves npm's bin link; here the wrapper runs the bundled node.
sed -i '1{/^#!/d}' "$dest/dist/src/cli/main.js"

# 3. Production dependencies, exactly as locked. Scripts are not run: the root package's
# "prepare" would need the compiler, and koffi's install script only checks that the prebuilt
# binary of its per-platform optional dependency (@koromix/koffi-linux-x64, which koffi loads at
# run time) works, else compiles one from source.
mkdir -p "$work/deps"
cp "$repo/package.json" "$repo/package-lock.json" "$work/deps/"
(cd "$work/deps" && npm ci --omit=dev --include=optional --os=linux --cpu=x64 --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
rm -f "$work/deps/node_modules/.package-lock.json"
# Type declarations and source maps are never loaded at run time.
find "$work/deps/node_modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
# What never runs: koffi's C, C++ and assembly sources, its build tool and code generator and its
# build headers and documentation (the prebuilt module is used), the musl build (the runtime and the image are
# glibc), and libraries' command-line scripts (yaml's CLI).
koffi=$work/deps/node_modules/koffi
find "$koffi" -type f \( -name '*.c' -o -name '*.cc' -o -name '*.h' -o -name '*.hh' -o -name '*.S' -o -name '*.asm' \
  -o -name '*.def' -o -name '*.inc' -o -name 'CMakeLists.txt' \) -delete
rm -rf "$koffi/doc" "$koffi/vendor" "$koffi/cnoke.cjs" "$koffi/src/koffi/src/trampolines.cjs" "$work/deps/node_modules/@koromix/koffi-linux-x64/musl_x64"
find "$work/deps/node_modules" -type f \( -name '*.js' -o -name '*.cjs' -o -name '*.mjs' \) -print0 |
  while IFS= read -r -d '' f; do [ "$(head -c2 "$f")" != '#!' ] || rm -f "$f"; done
# Packages' READMEs and changelogs are for developers (licences stay, beside each package).
find "$work/deps/node_modules" -type f \( -iname 'README*' -o -iname 'CHANGELOG*' \) -delete
find "$work/deps/node_modules" -type d -empty -delete
mv "$work/deps/node_modules" "$dest/node_modules"
[ -f "$dest/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node" ] ||
  die "koffi's native module for linux-x64 (@koromix/koffi-linux-x64) is missing from node_modules"

# 4. package.json: what the running agent reads (version, ES module type), nothing for npm to run.
node -e "
const pkg = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
const keep = ['name', 'version', 'description', 'license', 'type', 'main', 'bin', 'engines', 'os', 'dependencies'];
const out = Object.fromEntries(keep.filter((k) => k in pkg).map((k) => [k, pkg[k]]));
require('node:fs').writeFileSync(process.argv[2], JSON.stringify(out, null, 2) + '\n');
" "$repo/package.json" "$dest/package.json"

# Ownership and modes are set by the packager (dpkg-deb --root-owner-group, COPY in the image);
# here only: nothing group- or world-writable.
chmod -R go-w "$dest"
echo "stage.sh: $dest (node $node_version)" >&2
