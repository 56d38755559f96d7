# Credentials and region the way AWS SDKs find them, against local copies
# of the services: EC2 IMDSv2, ECS/EKS container credentials, STS web
# identity (IRSA), credential_process; refresh before expiry; no probing
# when everything is known; at most about a second when nothing answers.
. "$TESTS_DIR/lib/harness.sh"

s3rver_start --bucket cr || { echo "not ok - s3rver start"; exit 1; }
gen_file "$T/f" 1000 creds
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "$DG" --endpoint-url "$S3_ENDPOINT" cp "$T/f" s3://cr/f >/dev/null
for i in 1 2 3; do AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "$DG" --endpoint-url "$S3_ENDPOINT" cp "$T/f" "s3://cr/more/f$i" >/dev/null; done
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION

# meta_start [node options]: the mock on a free port; MD_URL, MD_LOG.
meta_start() {
    meta_stop
    MD_LOG=$T/md.log
    : >"$MD_LOG"
    node "$TESTS_DIR/lib/metadata.js" --log "$MD_LOG" "$@" >"$T/md.out" 2>&1 &
    MD_PID=$!
    n=100
    while ! grep -q READY "$T/md.out" && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
    MD_URL=http://127.0.0.1:$(sed -n 's/^READY //p' "$T/md.out")
}
meta_stop() { [ -n "${MD_PID:-}" ] && kill "$MD_PID" 2>/dev/null && wait "$MD_PID" 2>/dev/null; MD_PID=; }
trap 'meta_stop; h_cleanup' EXIT
fetches() { grep -c "$1" "$MD_LOG"; }

# --- EC2 instance metadata (IMDSv2) ---------------------------------------------------
meta_start
check "credentials from IMDSv2" env AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" "$DG" --debug --endpoint-url "$S3_ENDPOINT" cp s3://cr/f "$T/f1"
same "download with instance credentials" "$T/f" "$T/f1"
expect_match "the source is named" "$T/err" 'credentials from EC2 instance metadata'
expect_match "a session token first" "$MD_LOG" '^PUT /latest/api/token$'
expect_match "then the role" "$MD_LOG" '^GET /latest/meta-data/iam/security-credentials/test-role$'
expect "no region probe with a custom endpoint" "$(fetches placement)" 0
: >"$MD_LOG"
# (AWS itself is out of reach here: the command fails after resolving.)
env AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y "$DG" --debug --cli-connect-timeout 1 --cli-read-timeout 1 ls s3://cr-nowhere --no-verify-ssl >"$T/out" 2>"$T/err"
grep -q 'region eu-central-1 from EC2 instance metadata' "$T/err" && ok "the instance's region is used" || not_ok "the instance's region is used" "$(grep DEBUG "$T/err" | head -3)"
expect_match "the S3 endpoint follows it" "$T/err" 'endpoint https://s3\.eu-central-1\.amazonaws\.com'
: >"$MD_LOG"
env DG_DISABLE_EC2_DETECTION=true AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y "$DG" --debug --cli-connect-timeout 1 ls s3://cr-nowhere >"$T/out" 2>"$T/err"
expect "DG_DISABLE_EC2_DETECTION: no probe" "$(cat "$MD_LOG")" ""
expect_match "DG_DISABLE_EC2_DETECTION: us-east-1" "$T/err" 'region us-east-1,'
: >"$MD_LOG"
check "known keys and region: no probe at all" env AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://cr
expect "the metadata service was not asked" "$(cat "$MD_LOG")" ""
check_fail "AWS_EC2_METADATA_DISABLED: no credentials" 2 'unable to locate credentials' env AWS_EC2_METADATA_DISABLED=true AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://cr
expect "disabled: not asked" "$(cat "$MD_LOG")" ""

# Nothing answers: one probe, about a second, then a clear error.
start=$(date +%s%N)
check_fail "no metadata service: a clear error" 2 'unable to locate credentials' env AWS_EC2_METADATA_SERVICE_ENDPOINT=http://10.255.255.1 "$DG" ls s3://cr
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 2500 ] && ok "probing a missing metadata service took $ms ms" || not_ok "probe time" "$ms ms"

# A metadata address that takes connections and never answers: the
# one-second timeout, not the 60-second default, bounds the wait.
node -e 'require("net").createServer(() => {}).listen(0, "127.0.0.1", function () {
  console.log(this.address().port); setInterval(() => { try { process.kill(process.ppid, 0) } catch (e) { process.exit(0) } }, 500) })' >"$T/silent.port" &
SILENT_PID=$!
n=100; while [ ! -s "$T/silent.port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
start=$(date +%s%N)
check_fail "a silent metadata service: a clear error" 2 'unable to locate credentials' env AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$(cat "$T/silent.port")" "$DG" ls s3://cr
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -ge 900 ] && [ "$ms" -lt 2500 ] && ok "a silent metadata service costs $ms ms, once" || not_ok "silent probe time" "$ms ms"
kill $SILENT_PID 2>/dev/null

# --- migrate on EC2: the instance's region, and cross-region charges -------------------
# AWS is out of reach: HTTPS_PROXY points at a closed port, so S3 fails at
# once while the metadata service (plain HTTP, never proxied) answers.
meta_start
onaws() { env AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" HTTPS_PROXY=http://127.0.0.1:1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y "$@"; }
onaws AWS_REGION=us-east-1 "$DG" --cli-connect-timeout 1 migrate s3://cr-a/ s3://cr-b/ --yes >"$T/out" 2>"$T/err"
expect_match "EC2 in another region: a warning" "$T/err" \
    '^warning: this EC2 instance is in eu-central-1 \(eu-central-1a\) but S3 requests go to us-east-1: expect cross-region data transfer charges \(if the bucket is there, use --region eu-central-1\)$'
expect "said once" "$(grep -c 'EC2 instance' "$T/err")" 1
onaws "$DG" --cli-connect-timeout 1 --region us-east-1 migrate s3://cr-a/ s3://cr-b/ --yes >"$T/out" 2>"$T/err"
expect_match "a --region that crosses: says to drop it" "$T/err" 'charges \(drop --region or use --region eu-central-1\)$'
onaws "$DG" --cli-connect-timeout 1 migrate s3://cr-a/ s3://cr-b/ --yes >"$T/out" 2>"$T/err"
expect_match "no region set: the instance's, and no charges" "$T/err" \
    '^EC2 instance in eu-central-1 \(eu-central-1a\), the S3 region: no cross-region charges$'
onaws AWS_REGION=us-east-1 "$DG" --cli-connect-timeout 1 migrate s3://cr-a/ s3://cr-b/ --yes --only-show-errors >"$T/out" 2>"$T/err"
if grep -q 'EC2 instance' "$T/err"; then not_ok "--only-show-errors: no notice" "$(cat "$T/err")"; else ok "--only-show-errors: no notice"; fi
: >"$MD_LOG"
onaws AWS_REGION=us-east-1 DG_DISABLE_EC2_DETECTION=true "$DG" --cli-connect-timeout 1 migrate s3://cr-a/ s3://cr-b/ --yes >"$T/out" 2>"$T/err"
expect "DG_DISABLE_EC2_DETECTION: migrate asks nothing" "$(cat "$MD_LOG")" ""
if grep -q 'EC2 instance' "$T/err"; then not_ok "DG_DISABLE_EC2_DETECTION: no notice" "$(cat "$T/err")"; else ok "DG_DISABLE_EC2_DETECTION: no notice"; fi
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "$DG" --endpoint-url "$S3_ENDPOINT" mb s3://cr-b >/dev/null
: >"$MD_LOG"
check "another S3 than AWS: migrate" env AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 "$DG" --endpoint-url "$S3_ENDPOINT" migrate s3://cr/more/ s3://cr-b/ --yes
expect "another S3 than AWS: the metadata service is not asked" "$(cat "$MD_LOG")" ""
if grep -q 'EC2 instance' "$T/err"; then not_ok "another S3 than AWS: no notice" "$(cat "$T/err")"; else ok "another S3 than AWS: no notice"; fi

# --- refresh before expiry --------------------------------------------------------------
meta_start --expires 3600
check "long-lived credentials are fetched once" env AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://cr/more/ "$T/more" --recursive
expect "one credentials fetch for many requests" "$(fetches 'security-credentials/test-role')" 1
meta_start --expires 120
check "credentials near expiry are refreshed" env AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://cr/more/ "$T/more2" --recursive
[ "$(fetches 'security-credentials/test-role')" -gt 1 ] && ok "refreshed before requests" || not_ok "refresh" "$(cat "$MD_LOG")"

# --- ECS / EKS container credentials ------------------------------------------------------
meta_start
check "container credentials" env AWS_CONTAINER_CREDENTIALS_FULL_URI="$MD_URL/ecs/creds" AWS_CONTAINER_AUTHORIZATION_TOKEN=container-secret "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://cr/f "$T/f2"
same "download with container credentials" "$T/f" "$T/f2"
printf 'container-secret\n' >"$T/ecs-token"
check "container token from a file" env AWS_CONTAINER_CREDENTIALS_FULL_URI="$MD_URL/ecs/creds" AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/ecs-token" "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://cr
check_fail "a wrong container token" 2 'container credentials .*: HTTP 401' env AWS_CONTAINER_CREDENTIALS_FULL_URI="$MD_URL/ecs/creds" AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://cr
check_fail "values are validated" 2 'AccessKeyId is not alphanumeric' env AWS_CONTAINER_CREDENTIALS_FULL_URI="$MD_URL/ecs/bad" "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://cr
check_fail "plain HTTP only to loopback" 2 'plain HTTP only to loopback' env AWS_CONTAINER_CREDENTIALS_FULL_URI=http://example.com/creds "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://cr

# --- web identity (EKS IRSA) ------------------------------------------------------------------
printf 'web-identity-token' >"$T/token"
check "web identity through STS" env AWS_WEB_IDENTITY_TOKEN_FILE="$T/token" AWS_ROLE_ARN=arn:aws:iam::123456789012:role/app AWS_ENDPOINT_URL_STS="$MD_URL" "$DG" --debug --endpoint-url "$S3_ENDPOINT" cp s3://cr/f "$T/f3"
same "download with web identity" "$T/f" "$T/f3"
expect_match "from STS" "$T/err" 'credentials from web identity \(STS\)'
printf 'forged' >"$T/bad-token"
check_fail "a rejected token" 2 'STS AssumeRoleWithWebIdentity for arn:aws:iam::123456789012:role/app: InvalidIdentityToken: The token is not valid' env AWS_WEB_IDENTITY_TOKEN_FILE="$T/bad-token" AWS_ROLE_ARN=arn:aws:iam::123456789012:role/app AWS_ENDPOINT_URL_STS="$MD_URL" "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://cr
printf '[profile irsa]\nweb_identity_token_file = %s\nrole_arn = arn:aws:iam::1:role/x\n' "$T/token" >"$T/config"
check "web identity from a profile" env AWS_CONFIG_FILE="$T/config" AWS_ENDPOINT_URL_STS="$MD_URL" "$DG" --profile irsa --endpoint-url "$S3_ENDPOINT" ls s3://cr

# --- credential_process -------------------------------------------------------------------------
cat >"$T/creds.sh" <<'SH'
#!/bin/sh
echo '{"Version": 1, "AccessKeyId": "S3RVER", "SecretAccessKey": "S3RVER", "SessionToken": "from-process", "Expiration": "2099-01-01T00:00:00Z"}'
SH
printf '#!/bin/sh\necho "not json"\n' >"$T/bad.sh"
printf '#!/bin/sh\nexit 3\n' >"$T/fail.sh"
chmod +x "$T/creds.sh" "$T/bad.sh" "$T/fail.sh"
printf '[profile proc]\ncredential_process = "%s" --arg "with space"\n[profile bad]\ncredential_process = %s\n[profile fail]\ncredential_process = %s\n' \
    "$T/creds.sh" "$T/bad.sh" "$T/fail.sh" >"$T/config"
check "credential_process" env AWS_CONFIG_FILE="$T/config" "$DG" --profile proc --endpoint-url "$S3_ENDPOINT" cp s3://cr/f "$T/f4"
same "download with process credentials" "$T/f" "$T/f4"
check_fail "a process printing garbage" 2 'credential_process: malformed JSON' env AWS_CONFIG_FILE="$T/config" "$DG" --profile bad --endpoint-url "$S3_ENDPOINT" ls s3://cr
check_fail "a failing process" 2 'credential_process .*fail\.sh failed \(exit status 3\)' env AWS_CONFIG_FILE="$T/config" "$DG" --profile fail --endpoint-url "$S3_ENDPOINT" ls s3://cr
