#!/usr/bin/env bash
# Runs "$@" beside a private opencryptoki: pkcsslotd 3.x reads only fixed system paths
# (/etc/opencryptoki, /var/lib/opencryptoki, /run, /run/lock, /dev/shm) and no environment
# variable moves them, so this script is meant to run inside `unshare -m -i` and bind-mounts
# fresh directories over those paths. The machine's own opencryptoki state is never touched.
set -euo pipefail
D=$(mktemp -d /tmp/qpki-ock-XXXXXX)
mkdir -p "$D/etc" "$D/lib/swtok/TOK_OBJ" "$D/run/lock/opencryptoki/swtok" "$D/shm"
cat > "$D/etc/opencryptoki.conf" <<CONF
version opencryptoki-3.1
slot 0
{
stdll = libpkcs11_sw.so
tokname = swtok
}
CONF
chgrp -R pkcs11 "$D/lib" "$D/run/lock/opencryptoki"
chmod -R 770 "$D/lib" "$D/run/lock/opencryptoki"
mount --bind "$D/etc" /etc/opencryptoki
mount --bind "$D/lib" /var/lib/opencryptoki
mount --bind "$D/run" /run
mount --bind "$D/shm" /dev/shm
stop() {
  # pkcsslotd daemonizes: stop it by the process id it recorded, then drop the private state.
  if [ -s /run/pkcsslotd.pid ]; then
    pid=$(cat /run/pkcsslotd.pid)
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "ock: pkcsslotd $pid stopped" >&2
  fi
  umount /dev/shm /run /var/lib/opencryptoki /etc/opencryptoki 2>/dev/null || true
  rm -rf "$D"
}
trap stop EXIT
/usr/sbin/pkcsslotd
for _ in $(seq 50); do [ -S /run/pkcsslotd.socket ] && break; sleep 0.1; done
echo "ock: pkcsslotd $(cat /run/pkcsslotd.pid) running" >&2
"$@"
