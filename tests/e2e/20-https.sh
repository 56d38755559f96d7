# HTTPS against s3rver with a CA made here: trust from --ca-bundle and the
# environment, host names and IP addresses checked, refusals explained.
. "$TESTS_DIR/lib/harness.sh"

. "$TESTS_DIR/lib/pki.sh"
pki=$T/pki
make_pki "$pki" &&
mkcert "$pki" good "IP:127.0.0.1,DNS:localhost" &&
mkcert "$pki" otherhost "DNS:other.example" &&
mkcert "$pki" otherip "IP:127.0.0.2" &&
mkcert "$pki" selfsigned "IP:127.0.0.1,DNS:localhost" self &&
mkcert "$pki" clientonly "IP:127.0.0.1,DNS:localhost" "" clientAuth &&
mkcert "$pki" anyusage "IP:127.0.0.1,DNS:localhost" "" anyExtendedKeyUsage || { echo "not ok - openssl setup"; exit 1; }

# --- a certificate that matches ------------------------------------------------
s3rver_start --https "$pki/good.key" "$pki/good.pem" || { echo "not ok - s3rver start"; exit 1; }
ep=https://127.0.0.1:$S3_PORT
dgs() { "$DG" --endpoint-url "$ep" --ca-bundle "$pki/ca.pem" "$@"; }
check "mb over HTTPS (IP address endpoint)" dgs mb s3://tls
gen_file "$T/f" 100000 tls
check "upload over HTTPS" dgs cp "$T/f" s3://tls/f
check "download over HTTPS" dgs cp s3://tls/f "$T/f.back"
same "HTTPS round trip" "$T/f" "$T/f.back"
check "ls over HTTPS by host name" "$DG" --endpoint-url "https://localhost:$S3_PORT" --ca-bundle "$pki/ca.pem" ls s3://tls
expect_match "ls by host name lists the object" "$T/out" ' 100000 f$'
check "AWS_CA_BUNDLE" env AWS_CA_BUNDLE="$pki/ca.pem" "$DG" --endpoint-url "$ep" ls s3://tls
check "SSL_CERT_FILE" env SSL_CERT_FILE="$pki/ca.pem" "$DG" --endpoint-url "$ep" ls s3://tls
printf '[default]\nca_bundle = %s\n' "$pki/ca.pem" >"$T/config"
check "ca_bundle in the config file" env AWS_CONFIG_FILE="$T/config" "$DG" --endpoint-url "$ep" ls s3://tls
check_fail "--ca-bundle wins over AWS_CA_BUNDLE" 1 "not trusted" env AWS_CA_BUNDLE="$pki/ca.pem" "$DG" --endpoint-url "$ep" --ca-bundle /etc/ssl/certs/ca-certificates.crt ls s3://tls
check_fail "the system bundle does not trust the test CA" 1 "ls failed: s3://tls: TLS with 127.0.0.1:[0-9]+: certificate is not trusted" "$DG" --endpoint-url "$ep" ls s3://tls
check_fail "a missing CA bundle is a clear error" 2 "CA bundle: cannot open /nonexistent.pem" "$DG" --endpoint-url "$ep" --ca-bundle /nonexistent.pem ls s3://tls
check_fail "plain HTTP to the TLS port fails clearly" 1 "ls failed: s3://tls: " "$DG" --endpoint-url "http://127.0.0.1:$S3_PORT" --cli-read-timeout 5 ls s3://tls
gen_file "$T/big" 12582912 tlsbig
check "multipart upload over HTTPS" dgs cp "$T/big" s3://tls/big
check "aws reads it over HTTPS" "$AWS" --endpoint-url "$ep" --ca-bundle "$pki/ca.pem" s3 cp s3://tls/big "$T/big.aws"
same "HTTPS multipart round trip via aws" "$T/big" "$T/big.aws"
check "aws uploads over HTTPS" "$AWS" --endpoint-url "$ep" --ca-bundle "$pki/ca.pem" s3 cp "$T/f" s3://tls/from-aws
check "deltaglider reads it over HTTPS" dgs cp s3://tls/from-aws "$T/f.aws"
same "aws -> deltaglider over HTTPS" "$T/f" "$T/f.aws"
s3rver_stop

# --- certificates that must be refused ---------------------------------------------
s3rver_start --https "$pki/otherhost.key" "$pki/otherhost.pem" || { echo "not ok - s3rver start"; exit 1; }
check_fail "a certificate for another DNS name is refused" 1 "certificate does not match the host name" "$DG" --endpoint-url "https://localhost:$S3_PORT" --ca-bundle "$pki/ca.pem" ls
check_fail "a certificate without the IP address is refused" 1 "certificate does not match the host name" "$DG" --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$pki/ca.pem" ls
s3rver_stop

s3rver_start --https "$pki/otherip.key" "$pki/otherip.pem" || { echo "not ok - s3rver start"; exit 1; }
check_fail "a certificate for another IP address is refused" 1 "certificate does not match the host name" "$DG" --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$pki/ca.pem" ls
s3rver_stop

s3rver_start --https "$pki/selfsigned.key" "$pki/selfsigned.pem" || { echo "not ok - s3rver start"; exit 1; }
check_fail "a self-signed certificate is refused" 1 "certificate is not trusted" "$DG" --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$pki/ca.pem" ls
check "--no-verify-ssl accepts it" "$DG" --endpoint-url "https://127.0.0.1:$S3_PORT" --no-verify-ssl mb s3://insecure
check "a self-signed certificate given as the bundle is trusted" "$DG" --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$pki/selfsigned.pem" ls
expect_match "the direct-trust listing works" "$T/out" ' insecure$'
s3rver_stop

# extendedKeyUsage: a certificate for clients only cannot serve TLS.
s3rver_start --https "$pki/clientonly.key" "$pki/clientonly.pem" || { echo "not ok - s3rver start"; exit 1; }
check_fail "a clientAuth-only certificate is refused" 1 "certificate key usage forbids TLS server use" \
    "$DG" --endpoint-url "https://localhost:$S3_PORT" --ca-bundle "$pki/ca.pem" ls
s3rver_stop
s3rver_start --https "$pki/anyusage.key" "$pki/anyusage.pem" || { echo "not ok - s3rver start"; exit 1; }
check "anyExtendedKeyUsage is accepted" "$DG" --endpoint-url "https://localhost:$S3_PORT" --ca-bundle "$pki/ca.pem" ls
