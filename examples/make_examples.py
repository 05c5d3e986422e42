#!/usr/bin/env python3
"""Regenerates the bundled example keys, JWKS and tokens.

Every private key written here is a TEST KEY: it is public in this repository
and must never protect anything. Needs PyJWT and cryptography
(`pip install pyjwt cryptography`). Run from the repository root:
`python3 examples/make_examples.py`.
"""
import base64
import json
import pathlib
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ROOT = pathlib.Path(__file__).resolve().parent
ISS = "https://issuer.example"
AUD = ["api", "reports"]
FAR_FUTURE = 4102444800  # 2100-01-01T00:00:00Z
ISSUED = 1767225600  # 2026-01-01T00:00:00Z


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def write_private(name: str, key) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (ROOT / "keys" / name).write_bytes(pem)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (ROOT / "keys" / name.replace(".pem", ".pub.pem")).write_bytes(public)


def main() -> None:
    keys, jwks = {}, []

    es256 = ec.generate_private_key(ec.SECP256R1())
    nums = es256.public_key().public_numbers()
    jwks.append({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "test-es256",
                 "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u(nums.y.to_bytes(32, "big"))})
    keys["ES256"] = es256
    write_private("test-es256.pem", es256)

    ed = ed25519.Ed25519PrivateKey.generate()
    raw = ed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwks.append({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "test-eddsa", "x": b64u(raw)})
    keys["EdDSA"] = ed
    write_private("test-eddsa.pem", ed)

    rs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pn = rs.public_key().public_numbers()
    jwks.append({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "test-rs256", "n": b64u(uint(pn.n)), "e": b64u(uint(pn.e))})
    keys["RS256"] = rs
    write_private("test-rs256.pem", rs)

    secret = b"test-hs256-secret-do-not-use-anywhere-0123456789"
    # A shared secret never sits in a published key set: it has its own file.
    hs_jwks = [{"kty": "oct", "alg": "HS256", "use": "sig", "kid": "test-hs256", "k": b64u(secret)}]
    keys["HS256"] = secret
    (ROOT / "keys" / "test-hs256.secret").write_bytes(secret)

    (ROOT / "jwks.json").write_text(json.dumps({"keys": jwks}, indent=2) + "\n")
    (ROOT / "hs256-jwks.json").write_text(json.dumps({"keys": hs_jwks}, indent=2) + "\n")

    def claims(**over):
        c = {"iss": ISS, "sub": "user-1234", "aud": AUD, "iat": ISSUED, "nbf": ISSUED,
             "exp": FAR_FUTURE, "jti": "example-0001", "scope": "read write", "tenant": "acme"}
        c.update(over)
        return c

    def sign(alg, body, key=None, kid=None):
        kid = kid or "test-" + alg.lower()
        return jwt.encode(body, key if key is not None else keys[alg], algorithm=alg,
                          headers={"kid": kid, "typ": "JWT"})

    tokens = {
        "valid-es256": sign("ES256", claims()),
        "valid-eddsa": sign("EdDSA", claims()),
        "valid-rs256": sign("RS256", claims()),
        "valid-hs256": sign("HS256", claims()),
        "expired-es256": sign("ES256", claims(iat=ISSUED - 7200, nbf=ISSUED - 7200, exp=ISSUED - 3600)),
        "wrong-aud-es256": sign("ES256", claims(aud="someone-else")),
        "wrong-key-es256": sign("ES256", claims(), key=ec.generate_private_key(ec.SECP256R1())),
    }
    header = b64u(json.dumps({"alg": "none", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64u(json.dumps(claims(), separators=(",", ":")).encode())
    tokens["alg-none"] = f"{header}.{payload}."
    for name, token in tokens.items():
        (ROOT / "tokens" / f"{name}.jwt").write_text(token + "\n")


if __name__ == "__main__":
    main()
