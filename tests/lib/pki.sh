# A throwaway PKI for HTTPS tests, made with openssl at test time:
#   make_pki DIR   -> DIR/ca.pem (a CA), and through mkcert, server certs.
#   mkcert DIR NAME SAN [self] [EKU] -> DIR/NAME.key, DIR/NAME.pem signed by
#   the CA (or self-signed with "self"); SAN like "IP:127.0.0.1,DNS:localhost";
#   extendedKeyUsage EKU (default serverAuth).
mkcert() {
    _d=$1
    openssl req -new -newkey rsa:2048 -nodes -keyout "$_d/$2.key" -subj "/CN=$2" \
        -out "$_d/$2.csr" 2>/dev/null || return 1
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$3" "${5:-serverAuth}" \
        >"$_d/$2.ext"
    if [ "${4:-}" = self ]; then
        openssl x509 -req -in "$_d/$2.csr" -signkey "$_d/$2.key" -days 2 \
            -extfile "$_d/$2.ext" -out "$_d/$2.pem" 2>/dev/null
    else
        openssl x509 -req -in "$_d/$2.csr" -CA "$_d/ca.pem" -CAkey "$_d/ca.key" \
            -CAcreateserial -days 2 -extfile "$_d/$2.ext" -out "$_d/$2.pem" 2>/dev/null
    fi
}

make_pki() {
    mkdir -p "$1" &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/ca.key" -out "$1/ca.pem" -days 2 \
        -subj "/CN=deltaglider test CA" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
