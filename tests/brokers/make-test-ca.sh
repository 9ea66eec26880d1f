#!/usr/bin/env bash
# Makes a throw-away test PKI in DIR (default: $RMQ_DATA/tls) for the TLS tests:
#   ca.pem / ca.key            the test CA
#   server.pem / server.key    the broker: CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   client.pem / client.key    a client certificate signed by the CA (unencrypted PKCS#8)
#   client-enc.key             the same key, PKCS#8 encrypted with the pass "secret"
#   other-ca.pem               an unrelated CA (a client trusting only it must fail)
#   cadir/                     ca.pem under its OpenSSL hash name, as in /etc/grid-security
#   server.p12, ca.p12         the broker's key store and trust store for Java (ActiveMQ),
#                              PKCS#12, password "changeit"
# Idempotent: an existing, complete DIR is kept.
set -euo pipefail
dir=${1:-${RMQ_DATA:-/tmp/brokers/rabbitmq}/tls}
if [ -s "$dir/client-enc.key" ] && [ -s "$dir/other-ca.pem" ] && [ -s "$dir/ca.p12" ]; then
    # the client's keys readable by their owner only, as the agents want them (an older
    # PKI had them 0644)
    chmod 600 "$dir"/client*.key
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
ossl pkcs12 -export -in server.pem -inkey server.key -name broker -passout pass:changeit -out server.p12
if command -v keytool > /dev/null; then
    rm -f ca.p12
    keytool -importcert -noprompt -alias msgtk-ca -file ca.pem -keystore ca.p12 \
        -storetype PKCS12 -storepass changeit > /dev/null 2>&1
else
    # no Java, no ActiveMQ: an empty marker keeps the script idempotent
    : > ca.p12
fi
rm -f ./*.csr ./*.ext ./*.srl
# the brokers' keys readable by the brokers' users; the client's by its owner only (the
# agents warn about a key others can read)
chmod 644 ./*.key
chmod 600 ./client*.key
echo "test PKI in $dir"
