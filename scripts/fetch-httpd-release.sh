#!/usr/bin/env bash
# Fetch one real Apache release for tests: Apache httpd 2.4.68 as its release manager signed it.
# Usage: fetch-httpd-release.sh DIR
# Writes DIR/httpd-2.4.68.tar.gz, DIR/httpd-2.4.68.tar.gz.asc and DIR/KEYS (the httpd project's KEYS file),
# taken from the Debian source archive (the orig tarball and its upstream signature are byte-identical to the
# upstream release; debian/upstream/signing-key.asc is the project's KEYS). Idempotent: files already in DIR with the
# right digest are kept. Downloading needs apt-get, tar and xz.
set -euo pipefail
dest=${1:?usage: fetch-httpd-release.sh DIR}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
want_sha512=de3d6e2dd37a600b99b63b6740a06348d6f7642109f3c35e7eb1b82088ade8a5da9145b52c232587b9c2604c33ae908d0009ada4ea3168679e7f061b3135112d
if [[ -s $dest/KEYS && -s $dest/httpd-2.4.68.tar.gz.asc ]] &&
   [[ $(sha512sum "$dest/httpd-2.4.68.tar.gz" 2>/dev/null | cut -d' ' -f1) == "$want_sha512" ]]; then
  exit 0
fi
# A local copy (ATR_HTTPD_RELEASE_COPY, a folder holding the three files) avoids the download.
copy=${ATR_HTTPD_RELEASE_COPY:-}
if [[ -n $copy && $(sha512sum "$copy/httpd-2.4.68.tar.gz" 2>/dev/null | cut -d' ' -f1) == "$want_sha512" ]]; then
  cp "$copy/httpd-2.4.68.tar.gz" "$copy/httpd-2.4.68.tar.gz.asc" "$copy/KEYS" "$dest/"
  chmod u+w "$dest"/*
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
# The archive address comes from the system's own apt configuration.
uri=$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 !~ /-security/) {print u; exit} }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[[ -n $uri ]] || uri=$(awk '$1=="deb" && $3 !~ /-security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[[ -n $uri ]] || { echo "fetch-httpd-release: no Debian archive in the apt configuration" >&2; exit 1; }
echo "deb-src $uri bookworm main" > "$work/sources.list"
apt=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root -qq)
apt-get "${apt[@]}" update >/dev/null
(cd "$work/src" && apt-get "${apt[@]}" source --download-only apache2=2.4.68-1~deb12u1 >/dev/null 2>&1 ||
                   apt-get "${apt[@]}" source --download-only apache2 >/dev/null)
cp "$work/src/apache2_2.4.68.orig.tar.gz" "$dest/httpd-2.4.68.tar.gz"
cp "$work/src/apache2_2.4.68.orig.tar.gz.asc" "$dest/httpd-2.4.68.tar.gz.asc"
tar -xJf "$work"/src/apache2_2.4.68-*.debian.tar.xz -C "$work" debian/upstream/signing-key.asc
cp "$work/debian/upstream/signing-key.asc" "$dest/KEYS"
got=$(sha512sum "$dest/httpd-2.4.68.tar.gz" | cut -d' ' -f1)
if [[ $got != "$want_sha512" ]]; then
  echo "fetch-httpd-release: unexpected SHA-512 $got" >&2
  exit 1
fi
