#!/usr/bin/env bash
# Makes tokens.json: ES512 (P-521) tokens signed by a throwaway TEST KEY that
# is made here and never kept, with openssl. Run from this directory; the
# tokens' signatures differ on every run (ECDSA is randomized).
set -euo pipefail
key=$(mktemp)
trap 'rm -f "$key"' EXIT
openssl ecparam -name secp521r1 -genkey -noout -out "$key" 2>/dev/null
python3 - "$key" <<'PY'
import base64, json, subprocess, sys

key = sys.argv[1]

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def der_len(d, i):
    n = d[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(d[i + 1:i + 1 + k], "big"), i + 1 + k

def raw(der):
    # ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r ‖ s, 66 bytes each
    _, i = der_len(der, 1)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n, i = der_len(der, i + 1)
        out += int.from_bytes(der[i:i + n], "big").to_bytes(66, "big")
        i += n
    return out

def sign(header, payload):
    signing_input = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(json.dumps(payload, separators=(",", ":")).encode())
    der = subprocess.run(["openssl", "dgst", "-sha512", "-sign", key], input=signing_input.encode(), capture_output=True, check=True).stdout
    return signing_input + "." + b64(raw(der))

text = subprocess.run(["openssl", "ec", "-in", key, "-text", "-noout"], capture_output=True, text=True, check=True).stdout
pub_hex = "".join(l.strip() for l in text.split("pub:")[1].split("ASN1 OID")[0].splitlines()).replace(":", "")
point = bytes.fromhex(pub_hex)
assert point[0] == 4 and len(point) == 133
jwk = {"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "test-es512", "x": b64(point[1:67]), "y": b64(point[67:])}
# Valid until 2100, so hosts that read the real clock (C, NGINX) can use "valid".
claims = {"iss": "https://issuer.example", "aud": "api", "sub": "user-es512", "iat": 1699999990, "exp": 4102444800}
tokens = {
    "valid": sign({"alg": "ES512", "kid": "test-es512", "typ": "JWT"}, claims),
    "expired": sign({"alg": "ES512", "kid": "test-es512", "typ": "JWT"}, dict(claims, exp=1699999000)),
    "no_kid": sign({"alg": "ES512", "typ": "JWT"}, claims),
    "header_says_es384": sign({"alg": "ES384", "kid": "test-es512", "typ": "JWT"}, claims),
}
print(json.dumps({"note": "ES512 tokens signed by a throwaway P-521 TEST KEY (make.sh); valid from 1699999990 to 4102444800 (2100); the expired one expired at 1699999000", "jwk": jwk, "tokens": tokens}, indent=2))
PY
