#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/seed-* (committed; run from
anywhere). Sources: examples/ (tokens, key sets, the TEST HMAC secret), the
RFC 7515/8037 vectors of crates/jwtv/tests/rfc_vectors.rs, the attacks of
crates/jwtv/tests/attacks.rs (re-made here, HS256-signed with the test secret),
Wycheproof's JWK sets. Standard library only. Deterministic."""

import base64
import hashlib
import hmac
import json
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
SECRET = open(os.path.join(ROOT, "examples/keys/test-hs256.secret"), "rb").read()
SEP = b"\xff"
ISS, NOW = "https://issuer.example", 1_800_000_000


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(header, claims, secret=SECRET):
    h = header if isinstance(header, bytes) else header.encode()
    c = claims if isinstance(claims, bytes) else claims.encode()
    signing_input = f"{b64(h)}.{b64(c)}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


def good(**extra):
    claims = {"iss": ISS, "aud": "api", "sub": "user-1", "iat": NOW - 10, "exp": NOW + 3600}
    claims.update(extra)
    return json.dumps(claims, separators=(",", ":"))


HEADER = '{"alg":"HS256","typ":"JWT","kid":"test-hs256"}'

seeds = {t: {} for t in ("verify", "structured", "jwks", "ffi")}


def add(target, name, data):
    seeds[target][name] = data if isinstance(data, bytes) else data.encode()


# ---- verify: example tokens, RFC vectors, attacks ----
for f in sorted(os.listdir(os.path.join(ROOT, "examples/tokens"))):
    add("verify", "example-" + f[:-4], open(os.path.join(ROOT, "examples/tokens", f), "rb").read().strip())
RFC = {
    "rfc7515-a1-hs256": "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "rfc7515-a3-es256": "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    "rfc8037-a4-eddsa": "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
}
for name, token in RFC.items():
    add("verify", name, token)
ATTACKS = {
    "hs256-valid": (HEADER, good()),
    "hs256-no-kid": ('{"alg":"HS256"}', good()),
    "alg-none": ('{"alg":"none","typ":"JWT"}', good()),
    "alg-escaped": ('{"alg":"\\u0048S256","kid":"test-hs256"}', good()),
    "alg-duplicate": ('{"alg":"HS256","alg":"none"}', good()),
    "alg-confusion-rs-kid": ('{"alg":"HS256","kid":"test-rs256"}', good()),
    "kid-unknown": ('{"alg":"HS256","kid":"nobody"}', good()),
    "crit-exp": ('{"alg":"HS256","crit":["exp"],"exp":1}', good()),
    "crit-b64": ('{"alg":"HS256","crit":["b64"],"b64":false}', good()),
    "jwk-embedded": ('{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"},"jku":"https://x","x5u":"https://x"}', good()),
    "exp-fraction": (HEADER, good(exp=NOW + 0.5)),
    "exp-exponent": (HEADER, good(exp="1.9e9")),
    "expired": (HEADER, good(exp=NOW - 100)),
    "nbf-future": (HEADER, good(nbf=NOW + 1000)),
    "aud-array": (HEADER, good(aud=["other", "api"])),
    "aud-bad-type": (HEADER, good(aud=["api", 1])),
    "claims-duplicate": (HEADER, '{"exp":1900000000,"exp":1}'),
    "claims-escaped-names": (HEADER, '{"\\u0069ss":"https:\\/\\/issuer.example","aud":"api","sub":"\\ud83d\\ude00","exp":1900000000}'),
    "claims-nested": (HEADER, good()[:-1] + ',"x":' + "[" * 31 + "]" * 31 + "}"),
    "claims-not-object": (HEADER, '["iss"]'),
}
for name, (header, claims) in ATTACKS.items():
    claims = claims.replace('"1.9e9"', "1.9e9")
    add("verify", "attack-" + name, hs256(header, claims))
valid = hs256(HEADER, good())
h, p, s = valid.split(".")
add("verify", "attack-padded", f"{h}=.{p}.{s}")
add("verify", "attack-four-segments", f"{h}.{p}.{s}.{s}")
add("verify", "attack-empty-signature", f"{h}.{p}.")
add("verify", "attack-whitespace", f"{h}.{p}.{s} ")

# ---- structured: control byte (signer in bits 0-1, policy bits 2-7) + header 0xFF claims ----
ALGS = ["HS256", "ES256", "EdDSA", "RS256"]
KIDS = ["test-hs256", "test-es256", "test-eddsa", "test-rs256"]


def structured(alg, options, header, claims):
    control = (options & ~3) | ALGS.index(alg)
    return bytes([control]) + header.encode() + SEP + claims.encode()


for alg, kid in zip(ALGS, KIDS):
    add("structured", f"valid-{alg}", structured(alg, 0, f'{{"alg":"{alg}","typ":"JWT","kid":"{kid}"}}', good()))
full = good(aud=["api", "reports"], scope="read write", tenant="acme", nbf=NOW - 5, jti="id-1")
S = [
    ("all-options", 0b1011_1100, '{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}', full),
    ("typ-application", 0b0000_0100, '{"alg":"HS256","typ":"application/JWT"}', good()),
    ("no-exp", 0b0100_0000, '{"alg":"HS256"}', '{"iss":"https://issuer.example","aud":"api"}'),
    ("max-age", 0b0000_1000, '{"alg":"HS256"}', good(iat=NOW - 4000)),
    ("required", 0b0001_0000, '{"alg":"HS256"}', full),
    ("crit-b64", 0b0010_0000, '{"alg":"HS256","crit":["b64"],"b64":false}', good()),
    ("alg-mismatch", 0, '{"alg":"ES256","kid":"test-es256"}', good()),
    ("kid-other-alg", 0, '{"alg":"HS256","kid":"test-eddsa"}', good()),
    ("escapes", 0, '{"\\u0061lg":"H\\u005356","k\\u0069d":"test-\\u0068s256"}', '{"\\u0069ss":"https:\\/\\/issuer.example","aud":["\\u0061pi"],"exp":1.9e9}'),
    ("fractions", 0, '{"alg":"HS256"}', good(exp=NOW + 0.25, nbf=NOW - 0.5, iat=1767225600.5)),
    ("numbers", 0, '{"alg":"HS256"}', good(n=-12, big=123456789012345678901234567890)),
    ("types", 0, '{"alg":"HS256","typ":7}', good(sub=1)),
    ("unicode", 0, '{"alg":"HS256","kid":"\\ud83d\\ude00"}', good(sub="\u00e9\u4e2d")),
]
for name, options, header, claims in S:
    add("structured", name, structured("HS256", options, header, claims))
add("structured", "es256-aud-many", structured("ES256", 0b1000_0000, '{"alg":"ES256"}', good(aud="reports")))
add("structured", "eddsa-crit", structured("EdDSA", 0b0010_0000, '{"alg":"EdDSA","crit":["http://example.com/ext"]}', good()))

# ---- jwks ----
add("jwks", "examples-jwks", open(os.path.join(ROOT, "examples/jwks.json"), "rb").read())
add("jwks", "examples-hs256-jwks", open(os.path.join(ROOT, "examples/hs256-jwks.json"), "rb").read())
wp = json.load(open(os.path.join(ROOT, "crates/jwtv-jwks/tests/vectors/wycheproof/json_web_key_test.json")))
seen = set()
for i, group in enumerate(wp["testGroups"]):
    doc = group.get("public") or group.get("private")
    if isinstance(doc, dict) and "keys" in doc:
        text = json.dumps(doc, separators=(",", ":"))
        if text not in seen:
            seen.add(text)
            add("jwks", f"wycheproof-{i:02d}-{group['comment'][:24].replace(' ', '-')}", text)
ED_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
J = {
    "empty": '{"keys":[]}',
    "no-keys": '{"kty":"OKP"}',
    "keys-twice": '{"keys":[],"keys":[]}',
    "ed-no-alg": f'{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"}}]}}',
    "ed-escaped": f'{{"keys":[{{"k\\u0074y":"OKP","crv":"Ed\\u0032\\u0035\\u0035\\u0031\\u0039","x":"{ED_X}","kid":"a\\/b"}}]}}',
    "dup-kid-same": f'{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"k","x":"{ED_X}"}},{{"kty":"OKP","crv":"Ed25519","kid":"k","x":"{ED_X}"}}]}}',
    "use-enc-ops": f'{{"keys":[{{"kty":"OKP","crv":"Ed25519","use":"enc","x":"{ED_X}"}},{{"kty":"OKP","crv":"Ed25519","key_ops":["verify"],"x":"{ED_X}","kid":"v"}}]}}',
    "padded-x": f'{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}="}}]}}',
    "mixed": '{"keys":[{"kty":"oct","k":"dGVzdC1oczI1Ni1zZWNyZXQtZG8tbm90LXVzZS1hbnl3aGVyZS0wMTIzNDU2Nzg5","alg":"HS256"},' + f'{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"}}]}}',
    "p384": '{"keys":[{"kty":"EC","crv":"P-384","x":"AAAA","y":"AAAA"},{"kty":"EC","crv":"P-521"},{"kty":"DSA"},1,null]}',
    "rsa-short": '{"keys":[{"kty":"RSA","kid":"old","use":"enc","n":"AQAB","e":"AQAB"}]}',
}
for name, text in J.items():
    add("jwks", name, text)

# ---- ffi: mode byte + bytes (see fuzz/src/ffi_harness.rs) ----
for name, token in sorted(seeds["verify"].items()):
    if name.startswith("example-valid") or name in ("attack-hs256-valid", "attack-expired", "attack-alg-none"):
        add("ffi", "token-" + name, bytes([0 | (17 << 3)]) + token)
for name in ("examples-jwks", "examples-hs256-jwks", "mixed", "dup-kid-same", "wycheproof-03-rs256"):
    if name in seeds["jwks"]:
        add("ffi", "jwks-" + name, bytes([1 | (3 << 3)]) + seeds["jwks"][name])
jwks_inline = json.loads(open(os.path.join(ROOT, "examples/jwks.json")).read())
policy = {
    "keys": {"jwks": jwks_inline},
    "algorithms": ["ES256", "EdDSA", "RS256"],
    "issuers": [ISS],
    "audiences": ["api"],
    "typ": "JWT",
    "leeway_secs": 30,
    "required_claims": ["sub"],
    "required_claim_values": {"tenant": "acme"},
    "token_cache_size": 10,
}
add("ffi", "policy-examples", bytes([2 | (20 << 3)]) + json.dumps(policy).encode())
add("ffi", "policy-file-refused", bytes([2 | (2 << 3)]) + b'{"keys":{"jwks_file":"jwks.json"},"algorithms":["ES256"]}')
add("ffi", "policy-bad-alg", bytes([2 | (9 << 3)]) + b'{"keys":{"jwks":{"keys":[]}},"algorithms":["none"],"max_age_secs":60}')
add("ffi", "strings", bytes([3]) + b"ES256\0https://issuer.example\0api\0JWT\0sub\0tenant\0acme\0" + SECRET + b"\0HS256\0test-hs256")
add("ffi", "strings-bad-utf8", bytes([3]) + b"ES\xff256\0\xc3\0api\0at+jwt\0\0tenant\0\xe2\x82\0short\0HS384\0")
for alg in ALGS:
    add("ffi", f"signed-{alg}", bytes([4 | (ALGS.index(alg) << 3) | (1 << 5)]) + f'{{"alg":"{alg}","kid":"{KIDS[ALGS.index(alg)]}","typ":"JWT"}}'.encode() + SEP + full.encode())
add("ffi", "signed-numbers", bytes([4]) + HEADER.encode() + SEP + good(n=42, nbf=NOW - 0.5, aud=["api", "x\\u00e9"]).encode())

for target, files in seeds.items():
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for old in os.listdir(d):
        if old.startswith("seed-"):
            os.remove(os.path.join(d, old))
    for name, data in files.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(files)} seeds")
