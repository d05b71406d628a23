#!/usr/bin/env bash
# Prints the size of each Linux package `make bundle` built, against the 15 MB target,
# with what it installs and what it needs (read back with dpkg-deb and rpm).
#
#   scripts/package-sizes.sh BUNDLE_DIR   (target/release/bundle)
set -euo pipefail

DIR="${1:?usage: scripts/package-sizes.sh BUNDLE_DIR}"
TARGET_MB=15
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="$(node -p "require('$ROOT/tauri.conf.json').version")"

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }

shopt -s nullglob
debs=("$DIR"/deb/*_"$VERSION"_*.deb)
rpms=("$DIR"/rpm/*-"$VERSION"-*.rpm)
[[ ${#debs[@]} -gt 0 && ${#rpms[@]} -gt 0 ]] || { echo "no .deb or .rpm of version $VERSION in $DIR: run 'make bundle'" >&2; exit 1; }

printf '%-40s %10s %14s  %s\n' "package" "size" "installed" "target < ${TARGET_MB} MB"
for pkg in "${debs[@]}" "${rpms[@]}"; do
  size=$(stat -c %s "$pkg")
  case "$pkg" in
    *.deb) installed=$(($(dpkg-deb -f "$pkg" Installed-Size) * 1024)) ;;
    *.rpm) installed=$(rpm -qp --qf '%{SIZE}' "$pkg" 2>/dev/null) ;;
  esac
  verdict="met"
  if ((size >= TARGET_MB * 1000000)); then verdict="MISSED"; fi
  printf '%-40s %10s %14s  %s\n' "$(basename "$pkg")" "$(mb "$size")" "$(mb "$installed")" "$verdict"
done
echo
deb="${debs[0]}"
echo "$(basename "$deb") holds:"
dpkg-deb -c "$deb" | awk '{ printf "  %10s  %s\n", $3, $6 }'
echo "  depends: $(dpkg-deb -f "$deb" Depends)"
rpm_pkg="${rpms[0]}"
echo "$(basename "$rpm_pkg") requires: $(rpm -qp --requires "$rpm_pkg" 2>/dev/null | grep -v '^rpmlib(' | paste -sd, | sed 's/,/, /g')"
exit 0
