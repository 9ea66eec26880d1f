#!/usr/bin/env bash
# Makes a throw-away test PKI in DIR (default: $RMQ_DATA/tls) for the TLS tests:
#   ca.pem / ca.key            the test CA
#   server.pem / server.key    the broker: CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   client.pem / client.key    a client certificate signed by the CA (unencrypted PKCS#8)
#   client-enc.key             the same key, PKCS#8 encrypted with the pass "secret"
#   other-ca.pem               an unrelated CA (a client trusting only it must fail)
#   cadir/                     ca.pem under its OpenSSL hash name, as in /etc/grid-security
# Idempotent: an existing, complete DIR is kept.
set -euo pipefail
dir=${1:-${RMQ_DATA:-/tmp/brokers/rabbitmq}/tls}
if [ -s "$dir/client-enc.key" ] && [ -s "$dir/other-ca.pem" ]; then
    exit 0
fi
mkdir -p "$dir"
cd "$dir"
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=msgtk test CA" \
    -keyout ca.key -out ca.pem
ossl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=msgtk other CA" \
    -keyout other-ca.key -out other-ca.pem
ossl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
ossl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile server.ext -out server.pem
ossl req -newkey rsa:2048 -nodes -subj "/CN=msgtk test client" -keyout client.key -out client.csr
printf 'extendedKeyUsage=clientAuth\n' > client.ext
ossl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile client.ext -out client.pem
ossl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:secret -in client.key -out client-enc.key
mkdir -p cadir
cp ca.pem "cadir/$(openssl x509 -hash -noout -in ca.pem).0"
printf 'policy file, not a certificate\n' > cadir/msgtk.signing_policy
rm -f ./*.csr ./*.ext ./*.srl
chmod 644 ./*.key
echo "test PKI in $dir"
