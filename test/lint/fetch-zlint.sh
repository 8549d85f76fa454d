#!/usr/bin/env bash
# Fetch zlint (Debian 13 "trixie" ships 3.6; Debian 12 has none) for the lint tests. Only the
# npm registry and Debian's archive are reachable here, so the trixie .deb is downloaded with
# apt-get under a private configuration (the system's sources and package state are untouched)
# and unpacked, not installed — as test/pq/bc/fetch-bc.sh does for Bouncy Castle.
# Usage: fetch-zlint.sh DEST_DIR   → DEST_DIR/zlint
set -euo pipefail
dest=${1:?destination directory}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/x" "$dest"
echo "deb http://deb.debian.org/debian trixie main" > "$work/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/nonexistent
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1
      -o APT::Sandbox::User=root)
apt-get "${opts[@]}" -qq update
(cd "$work" && apt-get "${opts[@]}" -qq download zlint)
dpkg-deb -x "$work"/zlint_*.deb "$work/x"
# Renamed into place: a test running at the same time sees a whole binary or none.
cp "$work/x/usr/bin/zlint" "$dest/zlint.$$" && chmod 755 "$dest/zlint.$$" && mv -f "$dest/zlint.$$" "$dest/zlint"
"$dest/zlint" -version
