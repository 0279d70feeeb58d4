#!/usr/bin/env bash
# Builds cnproc-otel_VERSION-REVISION_amd64.deb: the compiled agent, its production node_modules
# and a Node.js 22 LTS runtime (packaging/stage.sh), a /usr/bin/cnproc-otel wrapper, the systemd
# unit, the service user (sysusers.d), the conffiles /etc/cnproc-otel/config.yaml and
# /etc/default/cnproc-otel, and maintainer scripts that create the user and enable the unit.
#
# Usage: npm run package:deb [-- --out DIR]      (default DIR: packaging/out)
# Env:   DEB_REVISION (default 1), DEB_MAINTAINER, CNPROC_OTEL_CACHE (see stage.sh)
# Needs: dpkg-deb (Debian's dpkg), help2man, strip (binutils), Node.js >= 20.6 with npm, the npm registry, 'npm ci' done.
# Prints the path of the .deb on stdout.
set -euo pipefail

die() {
  echo "build-deb.sh: $*" >&2
  exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$repo/packaging/out
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (Debian package dpkg)"
command -v help2man >/dev/null || die "help2man not found (Debian package help2man)"
command -v strip >/dev/null || die "strip not found (Debian package binutils)"

pkg_version=$(node -p "require(process.argv[1]).version" "$repo/package.json")
# Debian version: a semver pre-release (1.2.0-rc.1) must sort before the release (1.2.0~rc.1).
deb_version="${pkg_version/-/\~}-${DEB_REVISION:-1}"
arch=amd64
maintainer=${DEB_MAINTAINER:-cnproc-otel maintainers <maintainers@cnproc-otel.invalid>}

work=$(mktemp -d "${TMPDIR:-/tmp}/cnproc-otel-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
app=$root/usr/lib/cnproc-otel

# The application tree: runtime, compiled agent, production node_modules, package.json.
bash "$repo/packaging/stage.sh" "$app"

# Command, service, user, configuration, documentation.
install -D -m 0755 "$here/cnproc-otel" "$root/usr/bin/cnproc-otel"
install -D -m 0644 "$repo/packaging/systemd/cnproc-otel.service" "$root/lib/systemd/system/cnproc-otel.service"
install -D -m 0644 "$repo/packaging/systemd/cnproc-otel.sysusers" "$root/usr/lib/sysusers.d/cnproc-otel.conf"
install -D -m 0644 "$repo/config/cnproc-otel.yaml" "$root/etc/cnproc-otel/config.yaml"
install -D -m 0600 "$here/default" "$root/etc/default/cnproc-otel"
install -D -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/cnproc-otel"
# The manual page, from the command's own --help and --version (help2man), so it never drifts.
mkdir -p "$root/usr/share/man/man8"
help2man --no-info --section 8 --name "Linux process events as OpenTelemetry log records" \
  --source "cnproc-otel $pkg_version" "$root/usr/bin/cnproc-otel" | gzip -9n >"$root/usr/share/man/man8/cnproc-otel.8.gz" ||
  die "help2man could not run $root/usr/bin/cnproc-otel --help"
doc=$root/usr/share/doc/cnproc-otel
install -D -m 0644 "$here/copyright" "$doc/copyright"
install -D -m 0644 "$repo/README.md" "$doc/README.md"
install -D -m 0644 "$repo/docs/deploy.md" "$doc/deploy.md"
gzip -9n -c "$repo/CHANGELOG.md" >"$doc/changelog.gz"
printf 'cnproc-otel (%s) unstable; urgency=medium\n\n  * Upstream release %s (changes: changelog.gz).\n\n -- %s  %s\n' \
  "$deb_version" "$pkg_version" "$maintainer" "$(LC_ALL=C date -R ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"})" | gzip -9n >"$doc/changelog.Debian.gz"
if [ -d "$repo/config/examples" ]; then
  install -d -m 0755 "$doc/examples"
  install -m 0644 "$repo"/config/examples/*.yaml "$doc/examples/"
fi
install -d -m 0755 "$doc/collector"
install -m 0644 "$repo"/packaging/collector/*.yaml "$doc/collector/"

# Modes: directories 0755, files readable, nothing group/world-writable; executables stay so.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod u+rw,go+r,go-w {} +
chmod 0600 "$root/etc/default/cnproc-otel"

# Control data.
mkdir -p "$root/DEBIAN"
installed_kib=$(du -sk --apparent-size "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: cnproc-otel
Version: $deb_version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kib
Depends: libc6 (>= 2.28), libstdc++6 (>= 7), libgcc-s1 | libgcc1, systemd | systemd-standalone-sysusers | systemd-sysusers
Section: admin
Priority: optional
Description: Linux process events as OpenTelemetry log records
 cnproc-otel reads every process event (fork, exec, exit, uid/gid/session
 changes, ptrace, comm changes, core dumps) from the kernel's proc connector
 and exports them as OpenTelemetry log records over OTLP/HTTP, with exact
 accounting of anything lost on the way.
 .
 This package bundles its own Node.js runtime in /usr/lib/cnproc-otel and
 runs as the systemd service cnproc-otel under a dedicated user with only the
 capabilities it needs. Configure /etc/cnproc-otel/config.yaml and
 /etc/default/cnproc-otel (OTLP endpoint, headers, resource attributes).
EOF
printf '%s\n' /etc/cnproc-otel/config.yaml /etc/default/cnproc-otel >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  sh -n "$here/$script" || die "$script: syntax error"
  install -m 0755 "$here/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/cnproc-otel_${deb_version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "build-deb.sh: $deb ($(du -h "$deb" | cut -f1))" >&2
echo "$deb"
