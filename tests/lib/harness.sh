# Shared helpers for the end-to-end scripts in tests/e2e. Source it (POSIX
# sh) after setting nothing: it finds the tests directory itself from
# TESTS_DIR, which tests/run.sh exports.
#
# Each check prints "ok - NAME" or "not ok - NAME: WHY"; tests/run.sh counts
# them. A script's own variables: DG (the binary under test), T (a private
# temp dir, removed at exit), and S3_* from s3rver_start.

: "${TESTS_DIR:?TESTS_DIR must point at the tests directory}"
: "${DG:=${DG_BIN:?DG_BIN must name the deltaglider binary}}"
. "$TESTS_DIR/lib/s3rver.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/dg-e2e.XXXXXX")
# The test owns its AWS configuration: no user files, fixed credentials.
export HOME="$T/home"
mkdir -p "$HOME"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE \
    AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_REGION SSL_CERT_FILE DG_LOG_LEVEL
# Debian's awscli, never a shim earlier on PATH.
AWS=/usr/bin/aws

h_cleanup() {
    s3rver_stop
    [ -z "${RGW_TMP:-}" ] || rgw_stop
    rm -rf "$T"
}

# server_start [--bucket NAME]...: the suite's S3 server. s3rver by default;
# Ceph RGW with DG_SERVER=rgw (tests/run.sh runs some suites on both). Sets
# S3_ENDPOINT and the credentials; SERVER names the kind, for what only one
# of them does.
server_start() {
    SERVER=${DG_SERVER:-s3rver}
    case $SERVER in
    rgw)
        . "$TESTS_DIR/lib/rgw.sh"
        rgw_start "$@" || return 1
        export AWS_ACCESS_KEY_ID="$RGW_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$RGW_SECRET_KEY"
        ;;
    *) s3rver_start "$@" ;;
    esac
}
trap h_cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1: $2" | tr -d '\r' | head -c 600; echo; }

# check NAME CMD...: passes when CMD exits 0. Its output is kept in
# $T/out and $T/err for later checks.
check() {
    _n=$1
    shift
    if "$@" >"$T/out" 2>"$T/err"; then
        ok "$_n"
    else
        not_ok "$_n" "exit $? $(head -c 400 "$T/err")"
    fi
}

# check_fail NAME CODE PATTERN CMD...: passes when CMD exits with CODE and
# its stderr matches the extended regex PATTERN on a single line.
check_fail() {
    _n=$1 _code=$2 _pat=$3
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    _rc=$?
    if [ "$_rc" -ne "$_code" ]; then
        not_ok "$_n" "exit $_rc, want $_code: $(head -c 400 "$T/err")"
    elif ! grep -Eq -- "$_pat" "$T/err"; then
        not_ok "$_n" "stderr does not match /$_pat/: $(head -c 400 "$T/err")"
    elif [ "$(wc -l <"$T/err")" -ne 1 ]; then
        not_ok "$_n" "want one line on stderr, got $(wc -l <"$T/err"): $(head -c 400 "$T/err")"
    else
        ok "$_n"
    fi
}

# expect NAME ACTUAL WANTED
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got [$2], want [$3]"; fi
}

# expect_match NAME FILE REGEX: some line of FILE matches.
expect_match() {
    if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no line matches /$3/ in: $(head -c 400 "$2")"; fi
}

# same NAME A B: files are byte-identical.
same() {
    if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1" "$2 and $3 differ"; fi
}

dg() { "$DG" --endpoint-url "$S3_ENDPOINT" "$@"; }
awsx() { "$AWS" --endpoint-url "$S3_ENDPOINT" "$@"; }

# Deterministic pseudo-random bytes: gen_file PATH SIZE_BYTES SEED
gen_file() {
    openssl enc -aes-128-ctr -nosalt -pass "pass:$3" -pbkdf2 -in /dev/zero 2>/dev/null |
        head -c "$2" >"$1"
}

# Peak RSS in KiB of a command, from GNU time.
peak_rss() {
    /usr/bin/time -f %M -o "$T/rss" "$@" >/dev/null 2>"$T/err" || return 1
    tail -n 1 "$T/rss"
}
