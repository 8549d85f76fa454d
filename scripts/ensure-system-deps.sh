#!/usr/bin/env bash
# The tests run against real tools: SoftHSM2 (a PKCS#11 token), OpenSC's pkcs11-tool, GnuTLS
# certtool, OpenSSL with the PKCS#11 engine, Debian's Chromium, opencryptoki and pdftoppm (the
# transcript PDF's pages are rendered to look at). Install what is
# missing (Debian, as root); otherwise say what to install.
set -euo pipefail
need=()
command -v softhsm2-util >/dev/null || need+=(softhsm2)
command -v pkcs11-tool >/dev/null || need+=(opensc)
command -v certtool >/dev/null || need+=(gnutls-bin)
command -v chromium >/dev/null || need+=(chromium)
command -v xvfb-run >/dev/null || need+=(xvfb)
[ -e /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ] || [ "$(uname -m)" != x86_64 ] || need+=(libengine-pkcs11-openssl)
command -v pkcsslotd >/dev/null || [ -x /usr/sbin/pkcsslotd ] || need+=(opencryptoki)
command -v openssl >/dev/null || need+=(openssl)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
python3 -c 'import cryptography' 2>/dev/null || need+=(python3-cryptography)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test tools: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing test tools: ${need[*]} — install them (Debian: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
