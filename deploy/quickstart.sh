#!/bin/sh
# From a fresh checkout to a running window on 127.0.0.1:8080 with a
# generated demo PKI (NOT for production: the demo CA keys sit in demo/).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh deploy/install-deps.sh
[ -d build ] || meson setup build --buildtype=release
ninja -C build
demo="$top/demo"
if [ -f "$demo/madoguchid.pid" ] && kill -0 "$(cat "$demo/madoguchid.pid")" 2>/dev/null; then
  kill "$(cat "$demo/madoguchid.pid")"
  sleep 1
fi
rm -rf "$demo"
mkdir -p "$demo"
build/tests/pki/mkpki gen "$demo/pki" >/dev/null
cat > "$demo/madoguchi.conf" <<CONF
[server]
listen = 127.0.0.1
port = ${MADOGUCHI_PORT:-8080}
[pki]
anchors = $demo/pki/anchors
nonce_key_file = $demo/nonce.key
[store]
database = $demo/madoguchi.db
[receipts]
key = $demo/pki/receipts/receipt.key.pem
cert = $demo/pki/receipts/receipt.cert.pem
log_key = $demo/pki/receipts/log.key.pem
[admin]
port = ${MADOGUCHI_ADMIN_PORT:-9090}
CONF
build/admin/madoguchi-admin --config "$demo/madoguchi.conf" db init
build/admin/madoguchi-admin --config "$demo/madoguchi.conf" crl import \
  "$demo/pki/crls/jlis-full.crl.der" "$demo/pki/crls/jlis-dp-chiyoda.crl.der" \
  "$demo/pki/crls/pref-tokyo-dp-shinjuku.crl.der"
nohup build/server/madoguchid --config "$demo/madoguchi.conf" </dev/null >/dev/null 2>"$demo/madoguchid.log" &
echo $! > "$demo/madoguchid.pid"
for i in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:${MADOGUCHI_PORT:-8080}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:${MADOGUCHI_PORT:-8080}/healthz" >/dev/null
echo "madoguchid runs on http://127.0.0.1:${MADOGUCHI_PORT:-8080} (pid $(cat "$demo/madoguchid.pid"), log demo/madoguchid.log)"
echo "receipts on: the log's checkpoint at http://127.0.0.1:${MADOGUCHI_PORT:-8080}/v1/log/checkpoint, its key at /v1/log/key"
echo "stop it with: kill \$(cat demo/madoguchid.pid)"
