#!/usr/bin/env bash
# Regenerates examples/tokens/*.jwt with `jwtv sign` (a testing aid) and the
# TEST keys in examples/keys/. Every key used here is public in this
# repository: the tokens prove nothing outside tests.
#
#   bash examples/make_tokens.sh            # from the repository root
#   JWTV=/path/to/jwtv bash examples/make_tokens.sh
#
# All tokens are issued at 2026-01-01T00:00:00Z; the valid ones expire at
# 2100-01-01T00:00:00Z.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${JWTV:-}" ]; then
    cargo build --quiet --release -p jwtv-cli
    JWTV="${CARGO_TARGET_DIR:-target}/release/jwtv"
fi
keys=examples/keys
out=examples/tokens
mkdir -p "$out"

ISSUED=1767225600   # 2026-01-01T00:00:00Z
UNTIL=4102444800    # 2100-01-01T00:00:00Z
common=(--iss https://issuer.example --sub user-1234 --aud api --aud reports)
body() { # body NBF EXP
    printf '{"nbf":%s,"exp":%s,"jti":"example-0001","scope":"read write","tenant":"acme"}' "$1" "$2"
}

"$JWTV" sign --key $keys/test-es256.pem --alg ES256 --kid test-es256 "${common[@]}" \
    --now $ISSUED --claims "$(body $ISSUED $UNTIL)" > $out/valid-es256.jwt
"$JWTV" sign --key $keys/test-eddsa.pem --alg EdDSA --kid test-eddsa "${common[@]}" \
    --now $ISSUED --claims "$(body $ISSUED $UNTIL)" > $out/valid-eddsa.jwt
"$JWTV" sign --key $keys/test-rs256.pem --alg RS256 --kid test-rs256 "${common[@]}" \
    --now $ISSUED --claims "$(body $ISSUED $UNTIL)" > $out/valid-rs256.jwt
"$JWTV" sign --key $keys/test-hs256.secret --alg HS256 --kid test-hs256 "${common[@]}" \
    --now $ISSUED --claims "$(body $ISSUED $UNTIL)" > $out/valid-hs256.jwt

# Issued two hours before 2026-01-01, valid for one hour.
"$JWTV" sign --key $keys/test-es256.pem --alg ES256 --kid test-es256 "${common[@]}" \
    --now $((ISSUED - 7200)) --ttl 1h --claims "$(body $((ISSUED - 7200)) $((ISSUED - 3600)))" > $out/expired-es256.jwt

# For another API.
"$JWTV" sign --key $keys/test-es256.pem --alg ES256 --kid test-es256 --iss https://issuer.example \
    --sub user-1234 --aud someone-else --now $ISSUED --claims "$(body $ISSUED $UNTIL)" > $out/wrong-aud-es256.jwt

# Signed by a key that is not in jwks.json, under the kid of one that is.
"$JWTV" sign --key $keys/test-other-es256.pem --alg ES256 --kid test-es256 "${common[@]}" \
    --now $ISSUED --claims "$(body $ISSUED $UNTIL)" > $out/wrong-key-es256.jwt

# Signed by a new key whose kid is not published in jwks.json yet (a rotation
# done "sign before publish").
"$JWTV" sign --key $keys/test-other-es256.pem --alg ES256 --kid test-es256-2027 "${common[@]}" \
    --now $ISSUED --claims "$(body $ISSUED $UNTIL)" > $out/unknown-kid-es256.jwt

# alg "none": the claims of valid-es256 under an unsigned header, signature
# removed (no key can make this; verifiers must refuse it).
header=$(printf '{"alg":"none","typ":"JWT"}' | base64 | tr '+/' '-_' | tr -d '=\n')
payload=$(cut -d. -f2 $out/valid-es256.jwt)
printf '%s.%s.\n' "$header" "$payload" > $out/alg-none.jwt

ls $out
