#!/usr/bin/env bash
# HTTPS through the SDKs: makes a test certificate authority and a server certificate for
# 127.0.0.1 with openssl, starts its own lapis with them on free ports (--cert/--key, then
# PKCS#12 files with --cert/--pwd), and runs the Python, JS and Go SDKs over https, trusting that
# authority: blob, table and queue round trips, a customer-provided key (the Python SDK sends one
# over https only) and a SAS for https only. The PEM run also verifies OAuth bearer tokens (the
# SDKs send them over https only): it makes an RSA and a P-256 signing key, gives Lapis their
# public halves and roles for made-up object ids in an --accountConfig file, and the JS and Go
# tests mint RS256 and ES256 tokens with the private halves (oauth.test.mjs, go/oauth_test.go).
# Cleans up after itself.
#
# Needs: $LAPIS_BIN (default target/release/lapis), openssl, and the packages scripts/test
# installs: .venv (Python SDKs), conformance/js/node_modules, Go modules in .cache/gomod.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
LAPIS_BIN="${LAPIS_BIN:-$repo/target/release/lapis}"
PYTEST="${PYTEST:-$repo/.venv/bin/pytest}"
export GOMODCACHE="${GOMODCACHE:-$repo/.cache/gomod}"
export GOFLAGS="${GOFLAGS:--modcacherw}"
ACCOUNT=devstoreaccount1
KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

for tool in openssl node go; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed" >&2; exit 2; }
done
[ -x "$LAPIS_BIN" ] || { echo "run.sh: no lapis at $LAPIS_BIN (cargo build --release)" >&2; exit 2; }
[ -x "$PYTEST" ] || { echo "run.sh: no pytest at $PYTEST (scripts/test installs .venv)" >&2; exit 2; }
[ -d "$repo/conformance/js/node_modules/@azure" ] || (cd "$repo/conformance/js" && npm ci --no-audit --no-fund --loglevel=error)

WORK="$(mktemp -d)"
LAPIS_PID=""
stop_lapis() {
  if [ -n "$LAPIS_PID" ]; then
    kill "$LAPIS_PID" 2>/dev/null || true
    wait "$LAPIS_PID" 2>/dev/null || true
    LAPIS_PID=""
  fi
}
cleanup() { stop_lapis; rm -rf "$WORK"; }
trap cleanup EXIT
# Whatever the SDKs and pytest write to a temporary folder goes under $WORK.
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"

echo "==> certificates (openssl): a test CA, a server certificate for 127.0.0.1 and localhost, PKCS#12 files"
cd "$WORK"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Lapis test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
cat >server.ext <<'EOF'
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:devstoreaccount1.localhost
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
  -extfile server.ext 2>/dev/null
# OpenSSL 3's default PKCS#12 (PBES2, AES-256-CBC, HMAC-SHA256)...
openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -out server.pfx \
  -passout pass:lapis-secret
# ...and the legacy one (RC2-40 and 3DES, SHA-1 MAC) of OpenSSL 1.1, Windows and mkcert, when
# this openssl still has its legacy provider.
LEGACY=""
if openssl pkcs12 -export -legacy -in server.pem -inkey server.key -out legacy.pfx \
  -passout pass:lapis-secret 2>/dev/null; then
  LEGACY=legacy.pfx
fi

echo "==> OAuth (openssl): token signing keys, an account configuration trusting their public halves"
# The Go SDK names a user delegation credential's account after the first label of the host
# (127 for 127.0.0.1), so go/oauth_test.go reaches Lapis as devstoreaccount1.localhost (in the
# certificate above), dialling 127.0.0.1 itself.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out oauth-rsa.key 2>/dev/null
openssl pkey -in oauth-rsa.key -pubout -out oauth-rsa.pub.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out oauth-ec.key 2>/dev/null
openssl pkey -in oauth-ec.key -pubout -out oauth-ec.pub.pem
OAUTH_TENANT=5c1ad0e2-7d1e-4a8f-9b3c-2f6e8d4a1b07
OAUTH_ISSUER="https://sts.windows.net/$OAUTH_TENANT/"
OAUTH_CONTRIBUTOR=1c000000-0000-4000-8000-00000000001c
OAUTH_READER=2e000000-0000-4000-8000-00000000002e
OAUTH_NOBODY=3f000000-0000-4000-8000-00000000003f
cat >oauth.json <<EOF
{
  "accounts": {
    "$ACCOUNT": {
      "roles": {
        "$OAUTH_CONTRIBUTOR": ["Storage Blob Data Contributor"],
        "$OAUTH_READER": ["Storage Blob Data Reader"]
      }
    }
  },
  "oauth": { "keys": ["oauth-rsa.pub.pem", "oauth-ec.pub.pem"], "issuers": ["$OAUTH_ISSUER"] }
}
EOF
OAUTH_ENV=(LAPIS_OAUTH_RSA_KEY="$WORK/oauth-rsa.key" LAPIS_OAUTH_EC_KEY="$WORK/oauth-ec.key"
  LAPIS_OAUTH_ISSUER="$OAUTH_ISSUER" LAPIS_OAUTH_TENANT="$OAUTH_TENANT"
  LAPIS_OAUTH_CONTRIBUTOR="$OAUTH_CONTRIBUTOR" LAPIS_OAUTH_READER="$OAUTH_READER"
  LAPIS_OAUTH_NOBODY="$OAUTH_NOBODY")

# Starts lapis with these flags, then sets BLOB, TABLE, QUEUE and CONN (the SDKs' connection
# string with https endpoints).
start_lapis() {
  local name=$1; shift
  "$LAPIS_BIN" --blobPort 0 --tablePort 0 --queuePort 0 --adminPort 0 --silent \
    --location "$WORK/data-$name" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  LAPIS_PID=$!
  for _ in $(seq 100); do [ "$(wc -l <"$WORK/$name.out")" -ge 4 ] && break; sleep 0.1; done
  BLOB=$(sed -n 1p "$WORK/$name.out"); TABLE=$(sed -n 2p "$WORK/$name.out"); QUEUE=$(sed -n 4p "$WORK/$name.out")
  case "$BLOB $TABLE $QUEUE" in
    https://*" https://"*" https://"*) ;;
    *) echo "lapis ($name) did not start on https:"; cat "$WORK/$name.out" "$WORK/$name.err"; exit 1 ;;
  esac
  CONN="DefaultEndpointsProtocol=https;AccountName=$ACCOUNT;AccountKey=$KEY;BlobEndpoint=$BLOB/$ACCOUNT;QueueEndpoint=$QUEUE/$ACCOUNT;TableEndpoint=$TABLE/$ACCOUNT;"
  echo "lapis ($name): $BLOB, $TABLE, $QUEUE"
}

FAILED=()
check() { # name, command...
  local name=$1; shift
  echo "==> $name"
  if "$@"; then echo "--- $name: ok"; else echo "--- $name: FAILED"; FAILED+=("$name"); fi
}
python_sdk() {
  env LAPIS_HTTPS_CONNECTION_STRING="$CONN" LAPIS_HTTPS_CA="$WORK/ca.pem" \
    "$PYTEST" -q -p no:cacheprovider --rootdir "$here" "$here/test_https.py"
}
js_sdk() {
  env LAPIS_HTTPS_CONNECTION_STRING="$CONN" NODE_EXTRA_CA_CERTS="$WORK/ca.pem" "${OAUTH_ENV[@]}" \
    node --test "$here/https.test.mjs" "$here/oauth.test.mjs"
}
go_sdk() {
  (cd "$here/go" && env LAPIS_HTTPS_CONNECTION_STRING="$CONN" LAPIS_HTTPS_CA="$WORK/ca.pem" "${OAUTH_ENV[@]}" \
    go test -count=1 ./...)
}

start_lapis pem --cert "$WORK/server.pem" --key "$WORK/server.key" \
  --accountConfig "$WORK/oauth.json" --oauth basic
check "https (PEM): Python SDKs (blob, table, queue, CPK, spr=https)" python_sdk
check "https (PEM): JS SDKs (blob, table, queue; OAuth tokens, user delegation SAS)" js_sdk
check "https (PEM): Go SDKs (blob, table, queue; OAuth tokens, user delegation SAS)" go_sdk
stop_lapis

start_lapis pfx --cert "$WORK/server.pfx" --pwd lapis-secret
check "https (PKCS#12, AES): Python SDKs" python_sdk
stop_lapis

if [ -n "$LEGACY" ]; then
  start_lapis legacy --cert "$WORK/$LEGACY" --pwd lapis-secret
  check "https (PKCS#12, legacy RC2/3DES): Python SDKs" python_sdk
  stop_lapis
else
  echo "--- https (PKCS#12, legacy): skipped, this openssl has no legacy provider to write one"
fi

if [ ${#FAILED[@]} -gt 0 ]; then
  echo "FAILED: ${FAILED[*]}"
  exit 1
fi
echo "https: all SDK checks passed"
