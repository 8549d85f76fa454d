#!/usr/bin/env bash
# Fetch Bouncy Castle >= 1.80 (the first release with the final ML-DSA OIDs and Catalyst
# verification) for the post-quantum interop test. Debian 12 ships 1.72; Debian 13 (trixie)
# ships 1.80. Maven Central is not reachable here, so the trixie .debs are downloaded with
# apt-get under a private configuration (the system's sources and package state are untouched)
# and unpacked, not installed.
# Usage: fetch-bc.sh DEST_DIR   → DEST_DIR/{bcprov,bcpkix,bcutil}.jar
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
(cd "$work" && apt-get "${opts[@]}" -qq download libbcprov-java libbcpkix-java libbcutil-java)
for d in "$work"/*.deb; do dpkg-deb -x "$d" "$work/x"; done
for j in bcprov bcpkix bcutil; do
  src=$(ls "$work"/x/usr/share/java/$j-1.*.jar | head -1)
  # Renamed into place: a test running at the same time sees a whole jar or none.
  cp "$src" "$dest/$j.jar.$$" && mv -f "$dest/$j.jar.$$" "$dest/$j.jar"
done
ls "$dest"
