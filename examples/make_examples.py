#!/usr/bin/env python3
"""Regenerates the bundled example keys and JWKS, then the tokens (with
`jwtv sign`, through examples/make_tokens.sh).

Every private key written here is a TEST KEY: it is public in this repository
and must never protect anything. Needs cryptography
(`pip install cryptography`) and cargo. Run from the repository root:
`python3 examples/make_examples.py`.
"""
import base64
import json
import pathlib
import subprocess

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ROOT = pathlib.Path(__file__).resolve().parent


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

    # A key that is in no key set: it signs the wrong-key and unknown-kid tokens.
    write_private("test-other-es256.pem", ec.generate_private_key(ec.SECP256R1()))
    (ROOT / "keys" / "test-other-es256.pub.pem").unlink()

    subprocess.run(["bash", str(ROOT / "make_tokens.sh")], check=True)

if __name__ == "__main__":
    main()
