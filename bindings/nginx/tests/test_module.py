"""Tests of ngx_http_auth_jwtv_module in a real nginx on 127.0.0.1.

Each test group writes a throwaway prefix and configuration, starts nginx
(master + one worker) with the module loaded, and sends real HTTP requests.
Protected locations proxy to a second server block that echoes the claim
headers the configuration forwards. Standard library only.

    NGINX_MODULE=path/to/ngx_http_auth_jwtv_module.so python3 -m unittest bindings/nginx/tests/test_module.py
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
MODULE = os.environ.get("NGINX_MODULE", "")
NOW = int(time.time())

# Test secrets, clearly not for use anywhere.
SECRET_A = b"nginx-test-secret-a-do-not-use-0123456789"
SECRET_B = b"nginx-test-secret-b-do-not-use-0123456789"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims: dict | bytes, secret: bytes = SECRET_A, kid: str = "a", header: dict | None = None) -> str:
    """A signed token; `claims` as a dict, or as the exact payload bytes."""
    head = {"alg": "HS256", "typ": "JWT", "kid": kid, **(header or {})}
    payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    signing_input = b64(json.dumps(head).encode()) + "." + b64(payload)
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def claims(**over) -> dict:
    c = {"iss": "https://issuer.test", "aud": ["api", "reports"], "sub": "user-1", "iat": NOW - 60, "exp": NOW + 3600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def oct_jwks(*keys: tuple[str, bytes]) -> str:
    return json.dumps({"keys": [{"kty": "oct", "alg": "HS256", "kid": kid, "k": b64(secret)} for kid, secret in keys]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """One nginx (master + 1 worker, or `workers`) in a throwaway prefix."""

    def __init__(self, http_block: str, files: dict[str, str] | None = None, workers: int = 1):
        self.dir = Path(tempfile.mkdtemp(prefix="jwtv-nginx-"))
        self.dir.chmod(0o755)  # workers drop root privileges and must read the key files
        self.port, self.backend = free_port(), free_port()
        for name, text in (files or {}).items():
            (self.dir / name).parent.mkdir(parents=True, exist_ok=True)
            (self.dir / name).write_text(text)
        (self.dir / "logs").mkdir()
        conf = f"""
load_module {MODULE};
worker_processes {workers};
error_log {self.dir}/logs/error.log info;
pid {self.dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    large_client_header_buffers 4 32k;  # room for an over-long token to reach the module
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    server {{
        listen 127.0.0.1:{self.backend};
        location / {{ return 200 "sub=$http_x_sub aud=$http_x_aud kid=$http_x_kid tenant=$http_x_tenant"; }}
    }}
{http_block.replace("@DIR@", str(self.dir)).replace("@PORT@", str(self.port)).replace("@BACKEND@", str(self.backend))}
}}
"""
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(conf)
        self.proc = None

    def test_config(self) -> subprocess.CompletedProcess:
        return subprocess.run(["nginx", "-p", str(self.dir), "-c", str(self.conf), "-t"], capture_output=True, text=True)

    def start(self) -> "Nginx":
        checked = self.test_config()
        if checked.returncode != 0:
            raise AssertionError(f"nginx -t failed:\n{checked.stderr}")
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.dir), "-c", str(self.conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None

    def error_log(self) -> str:
        return (self.dir / "logs" / "error.log").read_text()

    def get(self, path: str = "/", token: str | None = None, headers: dict | None = None, method: str = "GET"):
        """(status, body, headers) of a GET (or of `method`)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {}, method=method)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), e.headers

    def raw_get(self, path: str, headers: dict) -> bytes:
        """The exact bytes nginx answers to a GET."""
        request = f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        request += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(request.encode())
            return read_all(s)

    def samples(self, path: str = "/metrics") -> dict[str, str]:
        """The Prometheus samples of a status location."""
        text = self.get(path)[1]
        return dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def read_all(s: socket.socket) -> bytes:
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


class RawBackend:
    """An upstream on 127.0.0.1 that keeps the exact bytes of each request it gets."""

    def __init__(self):
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                    data += chunk
                self.requests.append(data)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def stop(self):
        self.sock.close()


PROXY = """proxy_set_header X-Sub $jwt_claim_sub; proxy_set_header X-Aud $jwt_claim_aud;
           proxy_set_header X-Kid $jwt_header_kid; proxy_set_header X-Tenant $jwt_claim_tenant;
           add_header X-Jwt-Error $jwt_error always;
           proxy_pass http://127.0.0.1:@BACKEND@;"""


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class Directives(unittest.TestCase):
    """Inheritance across http/server/location, every rejection class, cookies, off, status."""

    @classmethod
    def setUpClass(cls):
        block = f"""
    auth_jwt_key_file @DIR@/keys.json;        # http level
    auth_jwt_issuer https://issuer.test;
    auth_jwt_leeway 0s;
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api";                          # server level
        auth_jwt_audience api;
        auth_jwt_alg HS256;
        location / {{ {PROXY} }}
        location /typed {{ auth_jwt_typ JWT; auth_jwt_require_claim tenant acme; auth_jwt_require_claim sub; {PROXY} }}
        location /cookie {{ auth_jwt "cookies" token=$cookie_auth; {PROXY} }}
        location /query {{ auth_jwt "query" token=$arg_access_token; {PROXY} }}
        location /tab {{ auth_jwt_require_claim tenant "a\tb"; {PROXY} }}
        location /strict {{ auth_jwt_max_age 30s; auth_jwt_crit x-ext; {PROXY} }}
        location /short {{ auth_jwt_max_lifetime 1h; {PROXY} }}
        location /public {{
            auth_jwt off;
            {PROXY}
            location /public/private {{ auth_jwt "inner"; {PROXY} }}
        }}
        location /es {{ auth_jwt_key_file {EXAMPLES}/jwks.json; auth_jwt_issuer https://issuer.example;
                        auth_jwt_alg ES256 EdDSA RS256; auth_jwt_cache 100; {PROXY} }}
        location /metrics {{ auth_jwt off; auth_jwt_status; }}
    }}
"""
        cls.nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.cleanup()

    def assert_rejected(self, token, code, path="/", **kw):
        status, _, headers = self.nginx.get(path, token, **kw)
        self.assertEqual(status, 401, code)
        challenge = headers["WWW-Authenticate"]
        if code is None:
            self.assertEqual(challenge, 'Bearer realm="api"')
        else:
            self.assertEqual(challenge, f'Bearer realm="api", error="invalid_token", error_description="{code}"')
            self.assertEqual(headers["X-Jwt-Error"], code)

    def test_valid_token_forwards_claims(self):
        status, body, _ = self.nginx.get("/", hs256(claims(tenant="acme")))
        self.assertEqual(status, 200)
        self.assertEqual(body, "sub=user-1 aud=api,reports kid=a tenant=acme")  # arrays joined, as NGINX Plus

    def test_every_rejection_class(self):
        cases = [
            (hs256(claims(exp=NOW - 10)), "expired"),
            (hs256(claims(nbf=NOW + 600)), "not_yet_valid"),
            (hs256(claims(iat=NOW + 600)), "issued_in_future"),
            (hs256(claims(), secret=SECRET_B), "bad_signature"),
            (hs256(claims(), kid="unknown"), "key_not_found"),
            (hs256(claims(iss="https://evil.test")), "bad_issuer"),
            (hs256(claims(aud="other")), "bad_audience"),
            (hs256(claims(exp=None)), "missing_claim"),
            (hs256(claims(exp="soon")), "bad_claim"),
            (hs256(claims(), header={"crit": ["x-unknown"], "x-unknown": 1}), "unsupported_crit"),
            (b64(b'{"alg":"none"}') + "." + b64(json.dumps(claims()).encode()) + ".", "malformed"),
            (b64(b'{"alg":"HS257"}') + "." + b64(json.dumps(claims()).encode()) + ".c2ln", "unsupported_alg"),
            (b64(b'{"alg":"ES256","kid":"a"}') + "." + b64(json.dumps(claims()).encode()) + ".c2ln", "alg_not_allowed"),
            ("a" * 20000, "too_large"),
            ("not a token", "malformed"),
        ]
        for token, code in cases:
            with self.subTest(code=code):
                self.assert_rejected(token, code)

    def test_missing_token_has_no_error_fields(self):
        self.assert_rejected(None, None)
        self.assert_rejected(None, None, headers={"Authorization": "Basic dXNlcjpwYXNz"})

    def test_type_and_required_claims(self):
        self.assertEqual(self.nginx.get("/typed", hs256(claims(tenant="acme")))[0], 200)
        self.assert_rejected(hs256(claims(tenant="other")), "bad_claim", "/typed")
        self.assert_rejected(hs256(claims(tenant="acme"), header={"typ": "at+jwt"}), "bad_type", "/typed")
        self.assert_rejected(hs256(claims(tenant="acme", sub=None)), "missing_claim", "/typed")

    def test_max_age_and_understood_crit(self):
        fresh = claims(iat=NOW - 10)
        self.assertEqual(self.nginx.get("/strict", hs256(fresh))[0], 200)
        self.assert_rejected(hs256(claims(iat=NOW - 60)), "too_old", "/strict")
        self.assert_rejected(hs256(claims(iat=None)), "missing_claim", "/strict")
        crit = {"crit": ["x-ext"], "x-ext": 1}
        self.assertEqual(self.nginx.get("/strict", hs256(fresh, header=crit))[0], 200)
        self.assert_rejected(hs256(fresh, header=crit), "unsupported_crit")  # only /strict understands it

    def test_max_lifetime(self):
        self.assertEqual(self.nginx.get("/short", hs256(claims(iat=NOW - 60, exp=NOW + 3540)))[0], 200)
        self.assert_rejected(hs256(claims(iat=NOW - 60, exp=NOW + 3541)), "lifetime_too_long", "/short")
        self.assert_rejected(hs256(claims(iat=None)), "missing_claim", "/short")
        self.assertEqual(self.nginx.get("/", hs256(claims(iat=NOW - 60, exp=NOW + 3541)))[0], 200)

    def test_token_from_a_cookie(self):
        token = hs256(claims())
        self.assertEqual(self.nginx.get("/cookie", headers={"Cookie": f"auth={token}"})[0], 200)
        status, _, headers = self.nginx.get("/cookie", token)  # the header is not read here
        self.assertEqual((status, headers["WWW-Authenticate"]), (401, 'Bearer realm="cookies"'))

    def test_off_in_a_location_and_on_again_nested(self):
        self.assertEqual(self.nginx.get("/public/x")[0], 200)
        status, _, headers = self.nginx.get("/public/private/x")
        self.assertEqual((status, headers["WWW-Authenticate"]), (401, 'Bearer realm="inner"'))
        self.assertEqual(self.nginx.get("/public/private/x", hs256(claims()))[0], 200)

    def test_asymmetric_keys_and_cache(self):
        token = (EXAMPLES / "tokens" / "valid-es256.jwt").read_text().strip()
        for _ in range(3):
            status, body, _ = self.nginx.get("/es", token)
            self.assertEqual((status, body.split()[0]), (200, "sub=user-1234"))
        self.assert_rejected((EXAMPLES / "tokens" / "expired-es256.jwt").read_text().strip(), "expired", "/es")

    def test_status_endpoint(self):
        self.nginx.get("/", hs256(claims()))
        self.nginx.get("/", hs256(claims(exp=NOW - 10)))
        status, text, headers = self.nginx.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
        # /metrics inherits the server's policy: the counters of "/" show.
        self.assertGreaterEqual(int(samples['jwtv_verifications_total{result="ok"}']), 1)
        self.assertGreaterEqual(int(samples['jwtv_verifications_total{result="expired"}']), 1)
        self.assertEqual(samples["jwtv_keys"], "1")
        # Requests without a token are counted; latency is a histogram by outcome.
        before = int(samples["jwtv_requests_without_token_total"])
        self.nginx.get("/")
        after = dict(line.rsplit(" ", 1) for line in self.nginx.get("/metrics")[1].splitlines() if not line.startswith("#"))
        self.assertEqual(int(after["jwtv_requests_without_token_total"]), before + 1)
        self.assertGreaterEqual(int(after['jwtv_verification_duration_seconds_count{outcome="valid"}']), 1)

    def test_error_log_is_clean_and_never_holds_a_token(self):
        token = hs256(claims(exp=NOW - 10))
        self.nginx.get("/", token)
        log = self.nginx.error_log()
        self.assertIn("auth_jwt: token rejected: expired", log)
        self.assertNotIn(token, log)
        self.assertNotIn(token.split(".")[2], log)
        for bad in ("[alert]", "[crit]", "[emerg]", "signal 11", "exited on signal"):
            self.assertNotIn(bad, log)

    def test_no_log_line_holds_the_token_wherever_it_came_from(self):
        # nginx's request log context would add the request line (a token in
        # the query string) and the Referer: the module's lines leave it out.
        tokens = [hs256(claims(exp=NOW - 10, jti=f"log-{i}")) for i in range(4)]
        self.nginx.get("/", tokens[0])
        self.nginx.get("/cookie", headers={"Cookie": f"auth={tokens[1]}"})
        self.nginx.get(f"/query?access_token={tokens[2]}")
        self.nginx.get(f"/query?access_token={tokens[3]}", headers={"Referer": f"https://app.test/?t={tokens[3]}"})
        log = self.nginx.error_log()
        self.assertGreaterEqual(log.count("auth_jwt: token rejected: expired"), 4)
        self.assertIn("client: 127.0.0.1", log)
        for token in tokens:
            self.assertNotIn(token, log)
            self.assertNotIn(token.split(".")[2], log)
        self.assertNotIn("access_token", log)

    def test_a_control_character_in_a_directive_value_reaches_the_policy(self):
        # `auth_jwt_require_claim tenant "a\tb"`: the tab goes into the policy as \u0009.
        status, body, _ = self.nginx.get("/tab", hs256(claims(tenant="a\tb")))
        self.assertEqual(status, 200)
        self.assertTrue(body.endswith(" tenant="), "a value with a tab never reaches a variable")
        self.assert_rejected(hs256(claims(tenant="a b")), "bad_claim", "/tab")
        self.assert_rejected(hs256(claims(tenant="a\\tb")), "bad_claim", "/tab")


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class VariableValues(unittest.TestCase):
    """$jwt_claim_* and $jwt_header_* never carry control bytes into headers."""

    @classmethod
    def setUpClass(cls):
        cls.backend = RawBackend()
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg HS256; auth_jwt_audience api;
        location / {{
            proxy_set_header X-Name $jwt_claim_name; proxy_set_header X-Roles $jwt_claim_roles;
            proxy_set_header X-Hint $jwt_header_hint;
            add_header X-Name $jwt_claim_name always; add_header X-Hint $jwt_header_hint always;
            proxy_pass http://127.0.0.1:{cls.backend.port};
        }}
        location /metrics {{ auth_jwt off; auth_jwt_status; }}
    }}
"""
        cls.nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.cleanup()
        cls.backend.stop()

    def exchange(self, token: str) -> tuple[bytes, bytes]:
        """(what the upstream received, what the client received)."""
        before = len(self.backend.requests)
        answer = self.nginx.raw_get("/", {"Authorization": f"Bearer {token}"})
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), answer[:200])
        self.assertEqual(len(self.backend.requests), before + 1)
        return self.backend.requests[-1], answer.split(b"\r\n\r\n", 1)[0]

    def test_a_plain_value_is_forwarded(self):
        upstream, response = self.exchange(hs256(claims(name="Zoë Smith", roles=["a", "b"]), header={"hint": "x y"}))
        self.assertIn("X-Name: Zoë Smith\r\n".encode(), upstream)
        self.assertIn(b"X-Roles: a,b\r\n", upstream)
        self.assertIn(b"X-Hint: x y\r\n", upstream)
        self.assertIn("\r\nX-Name: Zoë Smith".encode(), response)

    def test_control_bytes_never_reach_a_header(self):
        start = int(self.nginx.samples().get("jwtv_nginx_refused_values_total", "0"))
        injected = "Alice\r\nX-Admin: true\r\nX-Sub: admin"
        cases = {
            "crlf in a claim": hs256(claims(name=injected)),
            "lf": hs256(claims(name="Alice\nX-Admin: true")),
            "tab": hs256(claims(name="Alice\tX-Admin")),
            "nul": hs256(claims(name="Alice\u0000X-Admin")),
            "esc": hs256(claims(name="Alice\u001bX-Admin")),
            "del": hs256(claims(name="Alice\u007fX-Admin")),
            "crlf in a header parameter": hs256(claims(), header={"hint": injected}),
            # Raw CR LF is JSON whitespace: an object claim is forwarded as its JSON text.
            "raw crlf in an object": hs256(json.dumps(claims())[:-1].encode() + b', "roles": {"a":\r\n"X-Admin: true"}}'),
            "crlf in an array element": hs256(claims(roles=["a", injected])),
        }
        for case, token in cases.items():
            with self.subTest(case):
                upstream, response = self.exchange(token)
                for seen in (upstream, response):
                    self.assertNotIn(b"X-Admin", seen)
                    self.assertNotIn(b"X-Sub: admin", seen)
                    self.assertNotIn(b"Alice", seen)
        # Each refused value is counted and logged once per request (though
        # proxy_set_header and add_header both read it), by name, never by value.
        self.assertEqual(int(self.nginx.samples()["jwtv_nginx_refused_values_total"]), start + len(cases))
        log = self.nginx.error_log()
        self.assertEqual(log.count("auth_jwt: $jwt_claim_name left empty"), 6)
        self.assertEqual(log.count("auth_jwt: $jwt_header_hint left empty"), 1)
        self.assertEqual(log.count("auth_jwt: $jwt_claim_roles left empty"), 2)
        self.assertNotIn("Alice", log)
        self.assertNotIn("X-Admin", log)


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class AuditLog(unittest.TestCase):
    """A rejected token's audit event: the fields on its error log line and in
    $jwt_rejected_kid and $jwt_rejected_iss, escaped by libjwtv; never the token."""

    @classmethod
    def setUpClass(cls):
        block = """
    server {
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg HS256; auth_jwt_audience api;
        add_header X-Jwt-Error $jwt_error always;
        add_header X-Rejected-Kid $jwt_rejected_kid always; add_header X-Rejected-Iss $jwt_rejected_iss always;
        location / { proxy_pass http://127.0.0.1:@BACKEND@; }
    }
"""
        cls.nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.cleanup()

    def lines(self, start: str) -> list[str]:
        return [line for line in self.nginx.error_log().splitlines() if start in line]

    def test_a_forged_kid_is_logged_and_shown_escaped_never_the_token(self):
        kid = "k\r\n\u001b[31mX-Injected: 1"
        token = hs256(claims(iss="https://issuer.test\r\nX-Forged: 1", jti="j-audit"), secret=SECRET_B, kid=kid)
        status, _, headers = self.nginx.get("/", token)
        self.assertEqual((status, headers["X-Jwt-Error"]), (401, "key_not_found"))
        self.assertEqual(headers["X-Rejected-Kid"], r"k\r\n\u{1b}[31mX-Injected: 1")
        self.assertEqual(headers["X-Rejected-Iss"], r"https://issuer.test\r\nX-Forged: 1")
        self.assertIsNone(headers["X-Injected"])
        lines = self.lines("auth_jwt: token rejected: key_not_found")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(
            f'({len(token)} bytes) alg="HS256" kid="k\\r\\n\\u{{1b}}[31mX-Injected: 1" '
            'iss="https://issuer.test\\r\\nX-Forged: 1" jti="j-audit" sub_hash=',
            lines[0],
        )
        self.assertRegex(lines[0], r" sub_hash=[0-9a-f]{16} policy=-, client: 127\.0\.0\.1$")
        log = self.nginx.error_log()
        for part in token.split("."):
            self.assertNotIn(part, log)
        self.assertNotIn("\x1b", log)
        self.assertFalse(any(line.startswith(("X-Injected", "X-Forged")) for line in log.splitlines()))

    def test_other_rejections_and_a_valid_token(self):
        status, _, headers = self.nginx.get("/", hs256(claims(), secret=SECRET_B))
        self.assertEqual((status, headers["X-Jwt-Error"], headers["X-Rejected-Kid"]), (401, "bad_signature", "a"))
        self.assertEqual(headers["X-Rejected-Iss"], "https://issuer.test")
        status, _, headers = self.nginx.get("/", "not.a.token")
        self.assertEqual((status, headers["X-Jwt-Error"], headers["X-Rejected-Kid"]), (401, "malformed", None))
        self.assertIn(
            "auth_jwt: token rejected: malformed header (11 bytes) alg=- kid=- iss=- jti=- sub_hash=- policy=-, client:",
            self.nginx.error_log(),
        )
        status, _, headers = self.nginx.get("/", hs256(claims()))
        self.assertEqual((status, headers["X-Jwt-Error"], headers["X-Rejected-Kid"]), (200, None, None))


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class PlusDirectives(unittest.TestCase):
    """NGINX Plus's directives with Plus's meaning: claim and header variables
    by path, auth_jwt_require with variables, auth_jwt_type, limit_except."""

    @classmethod
    def setUpClass(cls):
        block = f"""
    auth_jwt_claim_set $jwt_roles realm_access roles;
    auth_jwt_claim_set $jwt_email info e-mail;
    auth_jwt_header_set $jwt_kid kid;
    map $jwt_claim_role $jwt_is_admin {{ admin 1; default 0; }}
    map $jwt_roles $jwt_has_admin {{ "~(^|,)admin(,|$)" 1; default ""; }}
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_type signed;
        auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg HS256; auth_jwt_audience api;
        add_header X-Roles $jwt_roles always; add_header X-Email $jwt_email always;
        add_header X-Kid $jwt_kid always; add_header X-Aud $jwt_claim_aud always;
        add_header X-Jwt-Error $jwt_error always; add_header X-Claims $jwt_claims always;
        location / {{ proxy_pass http://127.0.0.1:@BACKEND@; }}
        location /admin {{ auth_jwt_require $jwt_is_admin; proxy_pass http://127.0.0.1:@BACKEND@; }}
        location /reports {{
            auth_jwt_require $jwt_has_admin $jwt_claim_sub error=403;
            proxy_pass http://127.0.0.1:@BACKEND@;
        }}
        location /claims {{
            auth_jwt_require_claim /realm_access/roles admin;
            auth_jwt_require_claim level json=3;
            auth_jwt_require_claim scope read;
            proxy_pass http://127.0.0.1:@BACKEND@;
        }}
        location /write {{
            auth_jwt off;
            limit_except GET {{ auth_jwt "write"; }}
            proxy_pass http://127.0.0.1:@BACKEND@;
        }}
    }}
"""
        cls.nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.cleanup()

    def test_claims_and_header_parameters_read_as_plus_shows_them(self):
        token = hs256(claims(realm_access={"roles": ["admin", "user"], "n": 1}, info={"e-mail": "ann@example.com"}))
        status, _, headers = self.nginx.get("/", token)
        self.assertEqual(status, 200)
        self.assertEqual(headers["X-Roles"], "admin,user")
        self.assertEqual(headers["X-Email"], "ann@example.com")
        self.assertEqual(headers["X-Kid"], "a")
        self.assertEqual(headers["X-Aud"], "api,reports")
        self.assertEqual(json.loads(headers["X-Claims"])["realm_access"], {"roles": ["admin", "user"], "n": 1})
        # Absent on the way, or not an object: the variable is empty.
        status, _, headers = self.nginx.get("/", hs256(claims(realm_access="admin", info=None)))
        self.assertEqual(status, 200)
        self.assertIsNone(headers["X-Roles"])
        self.assertIsNone(headers["X-Email"])

    def test_require_passes_when_every_value_is_non_empty_and_not_zero(self):
        self.assertEqual(self.nginx.get("/admin", hs256(claims(role="admin")))[0], 200)
        for token in (hs256(claims(role="user")), hs256(claims())):
            status, _, headers = self.nginx.get("/admin", token)
            self.assertEqual(status, 401)
            self.assertEqual(headers["WWW-Authenticate"], 'Bearer realm="api", error="insufficient_scope"')
            self.assertIsNone(headers["X-Jwt-Error"], "the token itself is valid")
        self.assertIn('token verified, but "auth_jwt_require $jwt_is_admin" failed', self.nginx.error_log())

    def test_require_with_error_403(self):
        admin = claims(realm_access={"roles": ["user", "admin"]})
        self.assertEqual(self.nginx.get("/reports", hs256(admin))[0], 200)
        cases = {
            "no admin role": hs256(claims(realm_access={"roles": ["user", "administrator"]})),
            "no roles": hs256(claims()),
            "sub 0": hs256({**admin, "sub": "0"}),
        }
        for case, token in cases.items():
            with self.subTest(case):
                status, _, headers = self.nginx.get("/reports", token)
                self.assertEqual(status, 403)
                self.assertEqual(headers["WWW-Authenticate"], 'Bearer realm="api", error="insufficient_scope"')
        # The token is verified first: a bad one is a 401 with its code.
        status, _, headers = self.nginx.get("/reports", hs256(admin, secret=SECRET_B))
        self.assertEqual((status, headers["X-Jwt-Error"]), (401, "bad_signature"))

    def test_claim_rules_reach_nested_claims_numbers_and_scope_words(self):
        good = claims(realm_access={"roles": ["user", "admin"]}, level=3, scope="openid read")
        self.assertEqual(self.nginx.get("/claims", hs256(good))[0], 200)
        cases = [
            ({**good, "realm_access": {"roles": ["user"]}}, "bad_claim"),
            ({**good, "level": "3"}, "bad_claim"),
            ({**good, "scope": "openid readonly"}, "bad_claim"),
            ({**good, "realm_access": {}}, "missing_claim"),
        ]
        for token_claims, code in cases:
            with self.subTest(code, claims=token_claims):
                status, _, headers = self.nginx.get("/claims", hs256(token_claims))
                self.assertEqual((status, headers["X-Jwt-Error"]), (401, code))

    def test_auth_jwt_inside_limit_except(self):
        self.assertEqual(self.nginx.get("/write")[0], 200)
        status, _, headers = self.nginx.get("/write", method="POST")
        self.assertEqual((status, headers["WWW-Authenticate"]), (401, 'Bearer realm="write"'))
        self.assertEqual(self.nginx.get("/write", hs256(claims()), method="POST")[0], 200)
        self.assertEqual(self.nginx.get("/write", hs256(claims(), secret=SECRET_B), method="POST")[0], 401)


GUIDE = (ROOT / "bindings" / "nginx" / "MIGRATING.md").read_text()


def guide_examples() -> dict[str, str]:
    """MIGRATING.md's ```nginx blocks, by the name in the comment above each."""
    found = re.finditer(r"(?:<!-- example: ([\w-]+) -->\n)?```nginx\n(.*?)```", GUIDE, re.S)
    return {m.group(1) or f"block {i}": m.group(2) for i, m in enumerate(found)}


def guide_nginx(example: str, **replace: str) -> Nginx:
    """An nginx running one of the guide's examples on test ports, with its files."""
    text = example.replace("listen 8000;", "listen 127.0.0.1:@PORT@;").replace("127.0.0.1:8080", "127.0.0.1:@BACKEND@")
    for old, new in replace.items():
        text = text.replace(old, new)
    revoked = re.search(r"```json\n(.*?)```", GUIDE, re.S).group(1)
    return Nginx(text, {"conf/keys.json": oct_jwks(("a", SECRET_A)), "conf/revoked.json": revoked})


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class ReadmeExample(unittest.TestCase):
    """The repository README's NGINX example loads, and answers before its issuer does."""

    def test_the_readme_example_loads_and_never_waits_for_its_issuer(self):
        readme = (ROOT / "README.md").read_text()
        example = re.search(r"```nginx\n(.*?)```", readme, re.S).group(1)
        nginx = guide_nginx(example).start()
        try:
            # No network here: the issuer never answers, the request does not wait.
            started = time.time()
            status, _, headers = nginx.get("/api/x", hs256(claims()))
            self.assertEqual(status, 503)
            self.assertEqual(headers["Retry-After"], "5")
            self.assertLess(time.time() - started, 2)
            self.assertEqual(nginx.get("/api/x")[0], 401)
        finally:
            nginx.cleanup()


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class MigrationGuide(unittest.TestCase):
    """Every example of MIGRATING.md loads; NGINX Plus's common patterns run end to end."""

    EXAMPLES = guide_examples()

    def run_example(self, name: str, **replace: str) -> Nginx:
        nginx = guide_nginx(self.EXAMPLES[name], **replace).start()
        self.addCleanup(nginx.cleanup)
        return nginx

    def test_every_example_loads(self):
        self.assertLessEqual({"claims-to-headers", "role-gating", "key-from-url", "claim-rules", "key-file-per-tenant"},
                             set(self.EXAMPLES))
        for name, example in self.EXAMPLES.items():
            with self.subTest(name):
                nginx = guide_nginx(example)
                try:
                    result = nginx.test_config()
                    self.assertEqual(result.returncode, 0, result.stderr)
                finally:
                    nginx.cleanup()

    def test_claims_to_upstream_headers(self):
        nginx = self.run_example("claims-to-headers")
        status, body, _ = nginx.get("/products/1", hs256(claims()))
        self.assertEqual((status, body), (200, "sub=user-1 aud=api,reports kid= tenant="))
        self.assertEqual(nginx.get("/products/1", hs256(claims(aud="other")))[0], 401)

    def test_role_gating_with_a_map(self):
        nginx = self.run_example("role-gating")
        self.assertEqual(nginx.get("/admin/", hs256(claims(role="admin")))[0], 200)
        self.assertEqual(nginx.get("/ops/", hs256(claims(realm_access={"roles": ["user", "ops"]})))[0], 200)
        for path, token in [
            ("/admin/", hs256(claims(role="user"))),
            ("/admin/", hs256(claims(realm_access={"roles": ["admin"]}))),
            ("/ops/", hs256(claims(realm_access={"roles": ["devops"]}))),
            ("/ops/", hs256(claims(role="ops"))),
        ]:
            with self.subTest(path, token=token):
                status, _, headers = nginx.get(path, token)
                self.assertEqual(status, 403)
                self.assertEqual(headers["WWW-Authenticate"], 'Bearer realm="internal", error="insufficient_scope"')
        status, _, headers = nginx.get("/admin/", hs256(claims(role="admin"), secret=SECRET_B))
        self.assertEqual(status, 401)
        self.assertIn('error_description="bad_signature"', headers["WWW-Authenticate"])

    def test_keys_from_a_url(self):
        jwks = JwksServer(oct_jwks(("a", SECRET_A)))
        self.addCleanup(jwks.stop)
        nginx = self.run_example(
            "key-from-url",
            **{"https://idp.example.com/oauth2/v1/keys": f"http://127.0.0.1:{jwks.port}/keys",
               "https://idp.example.com": "https://issuer.test"},
        )
        token = hs256(claims())
        deadline = time.time() + 5
        while nginx.get("/", token)[0] == 503 and time.time() < deadline:  # the first fetch is under way
            time.sleep(0.05)
        self.assertEqual(nginx.get("/", token)[0], 200)
        self.assertGreaterEqual(jwks.requests, 1)
        status, _, headers = nginx.get("/", hs256(claims(iss="https://evil.test")))
        self.assertEqual((status, headers["WWW-Authenticate"].split("error_description=")[1]), (401, '"bad_issuer"'))

    def test_a_key_file_per_tenant(self):
        nginx = self.run_example("key-file-per-tenant")  # loads before conf/keys/ exists
        (nginx.dir / "conf" / "keys").mkdir()
        (nginx.dir / "conf" / "keys" / "acme.json").write_text(oct_jwks(("a", SECRET_A)))
        (nginx.dir / "conf" / "keys" / "globex.json").write_text(oct_jwks(("b", SECRET_B)))
        acme, globex = hs256(claims(), SECRET_A, "a"), hs256(claims(), SECRET_B, "b")
        get = lambda host, token: nginx.get("/", token, headers={"Host": host})[0]  # noqa: E731
        self.assertEqual([get("acme.api.example.com", t) for t in (acme, globex)], [200, 401])
        self.assertEqual([get("globex.api.example.com", t) for t in (acme, globex)], [401, 200])
        self.assertEqual(get("other.example.com", acme), 500)  # no file for it

    def test_claim_rules_and_revocations(self):
        nginx = self.run_example("claim-rules")
        good = claims(tenant="acme", scope="openid read", realm_access={"roles": ["reader"]}, email_verified=True)
        self.assertEqual(nginx.get("/api/", hs256(good))[0], 200)
        self.assertEqual(nginx.get("/api/", hs256({**good, "scope": "openid readonly"}))[0], 403)
        cases = [
            ({**good, "tenant": "other"}, "bad_claim"),
            ({**good, "realm_access": {"roles": ["writer"]}}, "bad_claim"),
            ({**good, "email_verified": "true"}, "bad_claim"),
            ({**good, "sub": "lockedsub1"}, "revoked"),
        ]
        for token_claims, code in cases:
            with self.subTest(code):
                status, _, headers = nginx.get("/api/", hs256(token_claims))
                self.assertEqual(status, 401)
                self.assertIn(f'error_description="{code}"', headers["WWW-Authenticate"])


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class KeyFileRotation(unittest.TestCase):
    def test_a_replaced_key_file_takes_effect_without_reload(self):
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg HS256; auth_jwt_audience api;
        location / {{ {PROXY} }}
    }}
"""
        nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))}).start()
        try:
            old, new = hs256(claims(), SECRET_A, "a"), hs256(claims(), SECRET_B, "b")
            self.assertEqual(nginx.get("/", old)[0], 200)
            self.assertEqual(nginx.get("/", new)[0], 401)
            # Rotation by atomic rename, as deployment tools do.
            (nginx.dir / "keys.new").write_text(oct_jwks(("b", SECRET_B)))
            os.replace(nginx.dir / "keys.new", nginx.dir / "keys.json")
            deadline = time.time() + 5
            while nginx.get("/", new)[0] != 200 and time.time() < deadline:
                time.sleep(0.2)
            self.assertEqual(nginx.get("/", new)[0], 200)
            status, _, headers = nginx.get("/", old)
            self.assertEqual(status, 401)
            self.assertIn('error_description="key_not_found"', headers["WWW-Authenticate"])
            # A broken file keeps the last good keys.
            (nginx.dir / "keys.json").write_text("{ not json")
            time.sleep(1.2)
            self.assertEqual(nginx.get("/", new)[0], 200)
        finally:
            nginx.cleanup()


class Es512(unittest.TestCase):
    """ES512 (P-521) verifies with a module built on aws-lc (JWTV_BACKEND=aws-lc)
    and is an unsupported algorithm with ring, the default."""

    BACKEND = os.environ.get("JWTV_BACKEND", "ring")
    VECTORS = json.loads((ROOT / "crates/jwtv/tests/vectors/es512/tokens.json").read_text())
    ES256 = (EXAMPLES / "tokens" / "valid-es256.jwt").read_text().strip()

    def block(self, algs: str) -> str:
        return f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg {algs}; auth_jwt_audience api;
        location / {{ {PROXY} }}
    }}
"""

    def keys(self) -> dict[str, str]:
        # The P-521 TEST KEY beside the example keys, so a ring build still has keys to serve.
        jwks = json.loads((EXAMPLES / "jwks.json").read_text())
        jwks["keys"].append(self.VECTORS["jwk"])
        return {"keys.json": json.dumps(jwks)}

    def test_es512_follows_the_backend(self):
        token = self.VECTORS["tokens"]["valid"]
        if self.BACKEND == "aws-lc":
            nginx = Nginx(self.block("ES512 ES256"), self.keys()).start()
            try:
                status, body, _ = nginx.get("/", token)
                self.assertEqual(status, 200)
                self.assertTrue(body.startswith("sub=user-es512 "), body)
                self.assertEqual(nginx.get("/", self.ES256)[0], 200)
                status, _, headers = nginx.get("/", token[:-4] + "AAAA")
                self.assertEqual(status, 401)
                self.assertIn('error_description="bad_signature"', headers["WWW-Authenticate"])
            finally:
                nginx.cleanup()
        else:
            refused = Nginx(self.block("ES512 ES256"), self.keys())
            try:
                checked = refused.test_config()
                self.assertNotEqual(checked.returncode, 0)
                self.assertIn("ES512", checked.stderr)
            finally:
                refused.cleanup()
            nginx = Nginx(self.block("ES256"), self.keys()).start()
            try:
                self.assertEqual(nginx.get("/", self.ES256)[0], 200)
                status, _, headers = nginx.get("/", token)
                self.assertEqual(status, 401)
                self.assertIn('error_description="unsupported_alg"', headers["WWW-Authenticate"])
            finally:
                nginx.cleanup()


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that can be switched, stopped and restarted."""

    def __init__(self, document: str, tls=None):
        self.document = document
        self.requests = 0
        self.port = free_port()
        self.server = None
        self.tls = tls  # an ssl.SSLContext: serve HTTPS
        self.documents = {}  # other paths: their JSON documents
        self.start()

    def start(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests += 1
                body = owner.documents.get(self.path, owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "max-age=1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class DrippingJwks:
    """A JWKS endpoint whose first answer trickles out a byte at a time until released."""

    def __init__(self, document: str):
        self.body = document.encode()
        self.fetching = threading.Event()  # the first fetch has arrived
        self.release = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                    data += chunk
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=300\r\n"
                             b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(self.body))
                sent = 0
                self.fetching.set()
                # Well within the default fetch timeout (10 s).
                deadline = time.time() + 6
                while sent < len(self.body) - 1 and not self.release.wait(0.2) and time.time() < deadline:
                    conn.sendall(self.body[sent:sent + 1])
                    sent += 1
                conn.sendall(self.body[sent:])

    def stop(self):
        self.release.set()
        self.sock.close()


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class StateChanges(unittest.TestCase):
    """A key server that is away is one warning in the error log, however
    many requests and retries follow; never a line per request."""

    def test_a_key_server_away_is_logged_once(self):
        closed = free_port()  # nothing listens there
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_key_url http://127.0.0.1:{closed}/jwks.json; auth_jwt_alg HS256;
        auth_jwt_audience api;
        location / {{ {PROXY} }}
    }}
"""
        nginx = Nginx(block).start()
        try:
            token = hs256(claims())
            deadline = time.time() + 4
            while time.time() < deadline:
                self.assertEqual(nginx.get("/", token)[0], 503)
                time.sleep(0.1)
            log = nginx.error_log()
            lines = [line for line in log.splitlines() if "key set fetches from" in line]
            self.assertEqual(len(lines), 1, log)
            self.assertIn("[warn]", lines[0])
            self.assertIn(f"http://127.0.0.1:{closed}/jwks.json failing (1 in a row)", lines[0])
            self.assertIn("no key set is served", lines[0])
        finally:
            nginx.cleanup()


class FirstFetch(unittest.TestCase):
    """A worker whose key set is still on its way answers at once and never stalls."""

    def test_requests_before_the_first_fetch_get_503_at_once(self):
        jwks = DrippingJwks(oct_jwks(("a", SECRET_A)))
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_key_url http://127.0.0.1:{jwks.port}/jwks.json; auth_jwt_alg HS256;
        auth_jwt_audience api;
        location / {{ {PROXY} }}
        location /public {{ auth_jwt off; {PROXY} }}
    }}
"""
        nginx = Nginx(block)
        try:
            nginx.start()
            self.assertTrue(jwks.fetching.wait(5), "the worker never asked for its keys")
            token = hs256(claims())

            started = time.monotonic()
            status, _, headers = nginx.get("/", token)
            elapsed = time.monotonic() - started
            self.assertEqual(status, 503)
            self.assertLess(elapsed, 0.25)
            self.assertEqual(headers["Retry-After"], "5")
            self.assertEqual(headers["X-Jwt-Error"], "unavailable")
            self.assertIsNone(headers["WWW-Authenticate"], "not a verdict on the token")

            # A protected request in flight does not hold up an unrelated location.
            protected = threading.Thread(target=nginx.get, args=("/", token))
            protected.start()
            time.sleep(0.02)
            started = time.monotonic()
            self.assertEqual(nginx.get("/public")[0], 200)
            self.assertLess(time.monotonic() - started, 0.1)
            protected.join()

            self.assertFalse(jwks.release.is_set())
            jwks.release.set()
            deadline = time.time() + 5
            while nginx.get("/", token)[0] != 200 and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(nginx.get("/", token)[0], 200)
            log = nginx.error_log()
            self.assertIn("auth_jwt: token not checked: unavailable keys", log)
            self.assertNotIn("[alert]", log)
        finally:
            nginx.cleanup()
            jwks.stop()


    def test_a_policy_file_cannot_make_a_worker_wait(self):
        # The file asks for the library's default wait (5 s) for the first
        # fetch and 2 s for a Redis list's first sync; a worker waits for neither.
        jwks = DrippingJwks(oct_jwks(("a", SECRET_A)))
        silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
        policy = {
            "keys": {"jwks_url": f"http://127.0.0.1:{jwks.port}/jwks.json"},
            "algorithms": ["HS256"],
            "audiences": ["api"],
            "refresh": {"first_fetch_timeout_ms": 5000},
            "revocations": {"source": f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
                            "first_sync_timeout_ms": 2000},
        }
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_policy @DIR@/policy.json;
        location / {{ {PROXY} }}
        location /public {{ auth_jwt off; {PROXY} }}
    }}
"""
        nginx = Nginx(block, {"policy.json": json.dumps(policy)})
        try:
            started = time.monotonic()
            nginx.start()
            self.assertEqual(nginx.get("/public")[0], 200)
            self.assertLess(time.monotonic() - started, 1.5, "a worker waited for Redis")
            self.assertTrue(jwks.fetching.wait(5), "the worker never asked for its keys")
            started = time.monotonic()
            status, _, headers = nginx.get("/", hs256(claims()))
            self.assertEqual((status, headers["Retry-After"]), (503, "5"))
            self.assertLess(time.monotonic() - started, 0.25)
        finally:
            nginx.cleanup()
            jwks.stop()
            silent.close()


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class RemoteKeys(unittest.TestCase):
    def test_url_key_set_survives_an_outage_and_picks_up_a_rotated_key(self):
        jwks = JwksServer(oct_jwks(("a", SECRET_A)))
        policy = {
            "keys": {"jwks_url": f"http://127.0.0.1:{jwks.port}/jwks.json"},
            "algorithms": ["HS256"],
            "audiences": ["api"],
            "refresh": {"min_ttl_secs": 1, "default_ttl_secs": 1, "unknown_kid_cooldown_secs": 1,
                        "backoff_min_ms": 100, "backoff_max_ms": 500, "fetch_timeout_ms": 1000,
                        "first_fetch_timeout_ms": 0},
        }
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_policy @DIR@/policy.json;
        location / {{ {PROXY} }}
    }}
"""
        nginx = Nginx(block, {"policy.json": json.dumps(policy)}).start()
        try:
            old, new = hs256(claims(), SECRET_A, "a"), hs256(claims(), SECRET_B, "b")
            deadline = time.time() + 5
            while nginx.get("/", old)[0] == 503 and time.time() < deadline:  # the first fetch is under way
                time.sleep(0.05)
            self.assertEqual(nginx.get("/", old)[0], 200)
            # The key server goes down: the last good keys keep working.
            jwks.stop()
            time.sleep(2.5)
            self.assertEqual(nginx.get("/", old)[0], 200)
            # It comes back with a rotated key; a token with the new kid gets it in.
            jwks.document = oct_jwks(("b", SECRET_B))
            jwks.start()
            deadline = time.time() + 8
            while nginx.get("/", new)[0] != 200 and time.time() < deadline:
                time.sleep(0.3)
            self.assertEqual(nginx.get("/", new)[0], 200)
            self.assertEqual(nginx.get("/", old)[0], 401, "the old key left with the old document")
            self.assertNotIn("[alert]", nginx.error_log())
        finally:
            nginx.cleanup()
            jwks.stop()


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class SeveralKeySources(unittest.TestCase):
    """auth_jwt_key_file and auth_jwt_key_url, any number per location: one merged key set."""

    def test_keys_of_every_file_and_url_verify(self):
        jwks = JwksServer(oct_jwks(("c", SECRET_A)))
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_alg HS256; auth_jwt_audience api;
        auth_jwt_key_file @DIR@/a.json;
        location / {{
            auth_jwt_key_file @DIR@/b.json;
            auth_jwt_key_request http://127.0.0.1:{jwks.port}/jwks.json;
            {PROXY}
        }}
        location /server-level {{ {PROXY} }}
    }}
"""
        files = {"a.json": oct_jwks(("a", SECRET_A)), "b.json": oct_jwks(("b", SECRET_B))}
        nginx = Nginx(block, files).start()
        try:
            a, b, c = hs256(claims(), SECRET_A, "a"), hs256(claims(), SECRET_B, "b"), hs256(claims(), SECRET_A, "c")
            deadline = time.time() + 5
            while nginx.get("/", c)[0] == 503 and time.time() < deadline:  # the URL's first fetch
                time.sleep(0.05)
            # The location's own key directives replace the server's, as every rule does.
            self.assertEqual([nginx.get("/", t)[0] for t in (a, b, c)], [401, 200, 200])
            self.assertEqual([nginx.get("/server-level", t)[0] for t in (a, b, c)], [200, 401, 401])
        finally:
            nginx.cleanup()
            jwks.stop()

    def test_two_discovered_issuers_each_verify_their_own_tokens(self):
        idps = []
        for kid, secret in (("a", SECRET_A), ("b", SECRET_B)):
            idp = JwksServer(oct_jwks((kid, secret)))
            issuer = f"http://127.0.0.1:{idp.port}/realms/{kid}"
            idp.documents = {f"/realms/{kid}/.well-known/openid-configuration":
                             json.dumps({"issuer": issuer, "jwks_uri": f"{issuer}/certs"})}
            idps.append((idp, issuer))
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_alg HS256; auth_jwt_audience api;
        auth_jwt_issuer_discovery {idps[0][1]};
        auth_jwt_issuer_discovery {idps[1][1]};
        location / {{ {PROXY} }}
    }}
"""
        nginx = Nginx(block, {}).start()
        try:
            (_, issuer_a), (_, issuer_b) = idps
            a = hs256(claims(iss=issuer_a), SECRET_A, "a")
            b = hs256(claims(iss=issuer_b), SECRET_B, "b")
            deadline = time.time() + 5
            while 503 in (nginx.get("/", a)[0], nginx.get("/", b)[0]) and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual((nginx.get("/", a)[0], nginx.get("/", b)[0]), (200, 200))
            # Issuer b's key never vouches for a token of issuer a.
            forged = hs256(claims(iss=issuer_a), SECRET_B, "b")
            status, _, headers = nginx.get("/", forged)
            self.assertEqual(status, 401)
            self.assertIn('error_description="bad_issuer"', headers["WWW-Authenticate"])
        finally:
            nginx.cleanup()
            for idp, _ in idps:
                idp.stop()

    def test_two_key_files_in_one_location(self):
        block = """
    server {
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_alg HS256; auth_jwt_audience api;
        auth_jwt_key_file @DIR@/a.json; auth_jwt_key_file @DIR@/b.json;
        location / { %s }
    }
""" % PROXY
        files = {"a.json": oct_jwks(("a", SECRET_A)), "b.json": oct_jwks(("b", SECRET_B))}
        nginx = Nginx(block, files).start()
        try:
            self.assertEqual(nginx.get("/", hs256(claims(), SECRET_A, "a"))[0], 200)
            self.assertEqual(nginx.get("/", hs256(claims(), SECRET_B, "b"))[0], 200)
            # A token naming a's kid with b's secret: the kid names one key.
            self.assertEqual(nginx.get("/", hs256(claims(), SECRET_B, "a"))[0], 401)
        finally:
            nginx.cleanup()

    def test_one_kid_for_different_keys_in_two_files_fails_nginx_t(self):
        block = """
    server {
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_alg HS256; auth_jwt_audience api;
        auth_jwt_key_file @DIR@/a.json; auth_jwt_key_file @DIR@/b.json;
        location / { %s }
    }
""" % PROXY
        files = {"a.json": oct_jwks(("a", SECRET_A)), "b.json": oct_jwks(("a", SECRET_B))}
        nginx = Nginx(block, files)
        try:
            checked = nginx.test_config()
            self.assertNotEqual(checked.returncode, 0, checked.stderr)
            self.assertIn('auth_jwt_key_file', checked.stderr)
            self.assertIn('kid "a" names different keys in two sources', checked.stderr)
        finally:
            nginx.cleanup()


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class VariableKeyFiles(unittest.TestCase):
    """auth_jwt_key_file paths with variables: evaluated per request, each set of files read once per worker,
    refused paths never read, a file that cannot be loaded answered 500 (never 200, never "no keys")."""

    SECRET_F = b"nginx-test-secret-f-do-not-use-0123456789"
    SECRET_O = b"nginx-test-secret-o-do-not-use-0123456789"

    @classmethod
    def setUpClass(cls):
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_alg HS256; auth_jwt_audience api;
        auth_jwt_key_file keys/$arg_tenant.json;          # relative to the configuration prefix
        location / {{ {PROXY} }}
        location /mixed {{ auth_jwt_key_file @DIR@/fixed.json; auth_jwt_key_file keys/$arg_tenant.json; {PROXY} }}
        location /fixed {{ auth_jwt_key_file @DIR@/fixed.json; {PROXY} }}
        location /raw {{ auth_jwt_key_file $arg_keys; {PROXY} }}
        location ~ ^/by-path/(?<tenant>[^/]+)$ {{ auth_jwt_key_file keys/$tenant.json; {PROXY} }}
        location /metrics {{ auth_jwt off; auth_jwt_status; }}
    }}
"""
        files = {
            "keys/acme.json": oct_jwks(("a", SECRET_A)),
            "keys/globex.json": oct_jwks(("b", SECRET_B)),
            "fixed.json": oct_jwks(("f", cls.SECRET_F)),
            "outside.json": oct_jwks(("o", cls.SECRET_O)),  # next to the key folder, never to be read
        }
        cls.nginx = Nginx(block, files).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.cleanup()

    def counters(self) -> dict[str, int]:
        samples = self.nginx.samples()
        loads = {r: int(samples[f'jwtv_nginx_key_file_loads_total{{result="{r}"}}'])
                 for r in ("ok", "failed", "refused")}
        return {**loads, "held": int(samples["jwtv_nginx_key_file_verifiers"])}

    def status(self, path: str, token: str) -> int:
        return self.nginx.get(path, token)[0]

    def test_each_tenant_verifies_with_its_own_file(self):
        acme, globex = hs256(claims(tenant="acme"), SECRET_A, "a"), hs256(claims(), SECRET_B, "b")
        status, body, _ = self.nginx.get("/?tenant=acme", acme)
        self.assertEqual((status, body), (200, "sub=user-1 aud=api,reports kid=a tenant=acme"))
        self.assertEqual(self.status("/?tenant=globex", globex), 200)
        for path, token in (("/?tenant=globex", acme), ("/?tenant=acme", globex)):
            with self.subTest(path):
                status, _, headers = self.nginx.get(path, token)
                self.assertEqual(status, 401)
                self.assertIn('error_description="key_not_found"', headers["WWW-Authenticate"])
        self.assertEqual(self.nginx.get("/?tenant=acme")[0], 401)  # no token: the challenge, no key read needed

    def test_a_set_of_files_is_read_once_per_worker_and_the_cache_is_bounded(self):
        (self.nginx.dir / "keys" / "once.json").write_text(oct_jwks(("a", SECRET_A)))
        token = hs256(claims(), SECRET_A, "a")
        before = self.counters()
        for _ in range(10):
            self.assertEqual(self.status("/?tenant=once", token), 200)
        self.assertEqual(self.counters()["ok"], before["ok"] + 1, "one load, then lookups")
        # More sets of files than the cache holds: the least recently used is freed, and read again when named.
        for i in range(20):
            (self.nginx.dir / "keys" / f"t{i}.json").write_text(oct_jwks(("a", SECRET_A)))
            self.assertEqual(self.status(f"/?tenant=t{i}", token), 200)
        after = self.counters()
        self.assertEqual(after["ok"], before["ok"] + 21)
        self.assertEqual(after["held"], 16)
        self.assertEqual(self.status("/?tenant=t19", token), 200)
        self.assertEqual(self.counters()["ok"], after["ok"], "still held")
        self.assertEqual(self.status("/?tenant=t0", token), 200)
        self.assertEqual(self.counters()["ok"], after["ok"] + 1, "evicted, read again")

    def test_fixed_and_variable_key_files_in_one_location(self):
        fixed = hs256(claims(), self.SECRET_F, "f")
        acme, globex = hs256(claims(), SECRET_A, "a"), hs256(claims(), SECRET_B, "b")
        self.assertEqual([self.status("/mixed?tenant=acme", t) for t in (fixed, acme, globex)], [200, 200, 401])
        self.assertEqual([self.status("/mixed?tenant=globex", t) for t in (fixed, acme, globex)], [200, 401, 200])
        # The variable file cannot be loaded: 500, never the fixed keys alone.
        self.assertEqual(self.status("/mixed?tenant=nobody", fixed), 500)
        # A location's own auth_jwt_key_file replaces the server's, variable or not.
        self.assertEqual([self.status("/fixed?tenant=acme", t) for t in (fixed, acme)], [200, 401])

    def test_a_dotdot_segment_is_refused_and_the_file_outside_is_never_read(self):
        outside = hs256(claims(), self.SECRET_O, "o")
        before = self.counters()
        paths = ["/?tenant=../outside", "/?tenant=x/../../outside", "/?tenant=../keys/acme",  # even back inside
                 "/raw?keys=..", "/raw?keys=keys/..", f"/raw?keys={self.nginx.dir}/keys/../outside.json",
                 "/raw", "/raw?keys=",  # empty
                 "/?tenant=" + "a" * 2000]  # past the bound
        for path in paths:
            with self.subTest(path[:40]):
                self.assertEqual(self.status(path, outside), 500)
        after = self.counters()
        self.assertEqual(after["refused"], before["refused"] + len(paths))
        self.assertEqual((after["ok"], after["failed"]), (before["ok"], before["failed"]), "nothing was read")
        log = self.nginx.error_log()
        self.assertIn('auth_jwt: key file "keys/../outside.json" not read: it holds a ".." segment', log)
        self.assertIn('auth_jwt: key file "" not read: it is empty', log)
        self.assertIn("not read: it is too long", log)
        self.assertNotIn(outside, log)

    def test_a_missing_file_answers_500_until_it_appears(self):
        token = hs256(claims(), SECRET_A, "a")
        self.assertEqual(self.status("/?tenant=late", token), 500)
        self.assertIn('auth_jwt: cannot load the key file "', self.nginx.error_log())
        self.assertIn('/keys/late.json": keys.jwks_file: ', self.nginx.error_log())
        (self.nginx.dir / "keys" / "late.json").write_text(oct_jwks(("a", SECRET_A)))
        deadline = time.time() + 5
        while self.status("/?tenant=late", token) != 200 and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.status("/?tenant=late", token), 200)
        # Not a JWKS, or no usable key: 500 as well.
        (self.nginx.dir / "keys" / "broken.json").write_text("{ not json")
        (self.nginx.dir / "keys" / "empty.json").write_text('{"keys": []}')
        for tenant in ("broken", "empty"):
            with self.subTest(tenant):
                self.assertEqual(self.status(f"/?tenant={tenant}", token), 500)

    def test_the_log_never_holds_a_control_byte_of_the_path_nor_the_token(self):
        token = hs256(claims(exp=NOW - 100), SECRET_A, "a")
        # A location's regex capture is decoded: %0a is a line feed in $tenant, and refused unread.
        for path in ("/by-path/a%0aforged", "/by-path/b%0d%0a[emerg]%20forged", "/?tenant=%0a", "/by-path/%1b[31mred"):
            with self.subTest(path):
                self.assertEqual(self.status(path, token), 500)
        self.assertEqual(self.status("/by-path/acme", token), 401)  # the capture works: the token is expired
        log = self.nginx.error_log()
        for line in log.splitlines():
            self.assertRegex(line, r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[", "a line split by a path")
        self.assertNotIn("\x1b", log)
        self.assertIn('auth_jwt: key file "keys/a\\x0Aforged.json" not read: it holds a control byte', log)
        self.assertIn('auth_jwt: key file "keys/b\\x0D\\x0A[emerg] forged.json" not read', log)
        self.assertIn("/keys/%0a.json", log)  # $arg_ is not decoded: a file name like another, missing
        self.assertNotIn(token, log)
        self.assertNotIn(token.split(".")[2], log)
        self.assertNotRegex(log, r"(?m)^\S+ \S+ \[(emerg|alert|crit)\]")

    def test_the_status_location_serves_the_module_counters(self):
        status, text, _ = self.nginx.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn("jwtv_nginx_key_file_verifiers ", text)
        self.assertIn("jwtv_nginx_refused_values_total ", text)

    def test_nginx_t_passes_a_location_whose_only_key_source_is_a_variable_file(self):
        ok = Nginx('server { listen 127.0.0.1:@PORT@; auth_jwt "api"; auth_jwt_key_file keys/$arg_tenant.json; '
                   "location / { } }")
        bad = Nginx('server { listen 127.0.0.1:@PORT@; auth_jwt "api"; auth_jwt_key_file keys/../$arg_tenant.json; '
                    "location / { } }")
        none = Nginx('server { listen 127.0.0.1:@PORT@; auth_jwt "api"; location / { } }')
        try:
            result = ok.test_config()  # no key folder at all: the files are read per request
            self.assertEqual(result.returncode, 0, result.stderr)
            result = bad.test_config()
            self.assertNotEqual(result.returncode, 0)
            self.assertIn('"auth_jwt_key_file" directive: "keys/../$arg_tenant.json": a path with variables cannot '
                          'hold a ".." segment', result.stderr)
            result = none.test_config()
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("needs a key source", result.stderr)
        finally:
            for nginx in (ok, bad, none):
                nginx.cleanup()


def test_ca(folder: Path) -> "ssl.SSLContext":
    """A test CA (ca.pem) and a server certificate for 127.0.0.1 signed by it,
    made now with openssl; returns the server's TLS context."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=jwtv test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
        "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    # nginx workers drop root privileges and read ca.pem themselves.
    folder.chmod(0o755)
    (folder / "ca.pem").chmod(0o644)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return context


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class PrivateCa(unittest.TestCase):
    """auth_jwt_trusted_certificate: an HTTPS key server behind a private CA."""

    def serve(self, trusted: bool) -> tuple[int, str]:
        folder = Path(tempfile.mkdtemp(prefix="jwtv-ca-"))
        jwks = JwksServer(oct_jwks(("a", SECRET_A)), tls=test_ca(folder))
        trust = f"auth_jwt_trusted_certificate {folder}/ca.pem;" if trusted else ""
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_alg HS256; auth_jwt_audience api;
        auth_jwt_key_url https://127.0.0.1:{jwks.port}/jwks.json; {trust}
        location / {{ {PROXY} }}
    }}
"""
        nginx = Nginx(block, {}).start()
        try:
            token = hs256(claims(), SECRET_A, "a")
            deadline = time.time() + 3
            status = nginx.get("/", token)[0]
            while status == 503 and time.time() < deadline:
                time.sleep(0.1)
                status = nginx.get("/", token)[0]
            return status, nginx.error_log()
        finally:
            nginx.cleanup()
            jwks.stop()
            shutil.rmtree(folder, ignore_errors=True)

    def test_keys_from_a_server_of_the_trusted_ca_verify(self):
        status, log = self.serve(trusted=True)
        self.assertEqual(status, 200, log)

    def test_without_the_ca_the_certificate_is_refused_and_nothing_passes(self):
        status, log = self.serve(trusted=False)
        self.assertEqual(status, 503, log)

    def test_a_ca_file_without_a_certificate_fails_nginx_t(self):
        folder = Path(tempfile.mkdtemp(prefix="jwtv-ca-"))
        (folder / "ca.pem").write_text("not a certificate\n")
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_alg HS256; auth_jwt_audience api;
        auth_jwt_key_url https://127.0.0.1:9/jwks.json;
        auth_jwt_trusted_certificate {folder}/ca.pem;
        location / {{ {PROXY} }}
    }}
"""
        nginx = Nginx(block, {})
        try:
            checked = nginx.test_config()
            output = checked.stderr
            self.assertNotEqual(checked.returncode, 0, output)
            self.assertIn("tls.ca_file", output)
            self.assertIn("no certificate in the file", output)
        finally:
            nginx.cleanup()
            shutil.rmtree(folder, ignore_errors=True)


class Prometheus:
    """Debian's Prometheus on 127.0.0.1, scraping `target` every second with jwtv's rules."""

    def __init__(self, target: str):
        self.dir = Path(tempfile.mkdtemp(prefix="jwtv-prometheus-"))
        self.port = free_port()
        rules = ROOT / "deploy" / "prometheus" / "jwtv-rules.yml"
        (self.dir / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{rules}']\n"
            "scrape_configs:\n"
            f"  - {{job_name: gw, metrics_path: /metrics, static_configs: [{{targets: ['{target}']}}]}}\n")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.dir / 'prometheus.yml'}", f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def api(self, path: str, **params) -> dict:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/{path}?{query}", timeout=5) as response:
            return json.loads(response.read())["data"]

    def query(self, expr: str) -> list:
        return self.api("query", query=expr)["result"]

    def alerts(self) -> dict[str, str]:
        return {a["labels"]["alertname"]: a["state"] for a in self.api("alerts")["alerts"]}

    def wait(self, what: str, condition, timeout: float = 30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if condition():
                    return
            except (OSError, KeyError, ValueError, IndexError):
                pass  # not up yet
            time.sleep(0.5)
        raise AssertionError(f"{what} within {timeout} s")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(MODULE and shutil.which("prometheus"), "NGINX_MODULE is not set, or no prometheus")
class Monitoring(unittest.TestCase):
    """A real Prometheus scrapes a real nginx with jwtv's rules: the key server
    goes down, then comes back with a rotated key, and the alerts follow; every
    dashboard panel's query returns data."""

    def test_alerts_follow_an_outage_and_a_rotation_and_every_panel_has_data(self):
        jwks = JwksServer(oct_jwks(("a", SECRET_A)))
        policy = {
            "keys": {"jwks_url": f"http://127.0.0.1:{jwks.port}/jwks.json"},
            "algorithms": ["HS256"], "audiences": ["api"], "token_cache_size": 100,
            "refresh": {"min_ttl_secs": 1, "default_ttl_secs": 1, "unknown_kid_cooldown_secs": 1,
                        "backoff_min_ms": 100, "backoff_max_ms": 300, "fetch_timeout_ms": 1000,
                        "first_fetch_timeout_ms": 0},
            "revocations": {"source": "revoked.json"},
        }
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt_policy @DIR@/policy.json;
        location / {{ auth_jwt "api"; {PROXY} }}
        location /metrics {{ auth_jwt off; auth_jwt_status; }}
    }}
"""
        nginx = Nginx(block, {"policy.json": json.dumps(policy), "revoked.json": "{}"}).start()
        prometheus = Prometheus(f"127.0.0.1:{nginx.port}")
        try:
            old = hs256(claims(), SECRET_A, "a")
            deadline = time.time() + 5
            while nginx.get("/", old)[0] != 200 and time.time() < deadline:
                time.sleep(0.05)
            for _ in range(20):
                self.assertEqual(nginx.get("/", old)[0], 200)
            nginx.get("/")  # one request without a token
            prometheus.wait("a scrape with keys", lambda: prometheus.query("jwtv_keys")[0]["value"][1] == "1")
            prometheus.wait("rates over two samples", lambda: prometheus.query("jwtv:success_ratio:rate5m"))

            # The key server goes down: fetches fail in a row, the alert goes pending (for: 5m).
            jwks.stop()
            prometheus.wait("JwtvKeyServerUnreachable pending",
                            lambda: prometheus.alerts().get("JwtvKeyServerUnreachable") == "pending")
            for _ in range(5):
                nginx.get("/", old)
            # Every dashboard panel's query returns data from this Prometheus.
            dashboard = json.loads((ROOT / "deploy" / "grafana" / "jwtv.json").read_text())
            exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
            self.assertGreater(len(exprs), 20)
            for expr in exprs:
                prometheus.wait(f"data for {expr}", lambda: prometheus.query(expr))

            # It comes back with a rotated key: tokens of the removed key fail, the rotation alert fires.
            jwks.document = oct_jwks(("b", SECRET_B))
            jwks.start()
            new = hs256(claims(), SECRET_B, "b")
            deadline = time.time() + 10
            while nginx.get("/", new)[0] != 200 and time.time() < deadline:
                time.sleep(0.2)
            for _ in range(15):
                self.assertEqual(nginx.get("/", old)[0], 401)
            prometheus.wait("JwtvKeyNotFoundAfterRotation firing",
                            lambda: prometheus.alerts().get("JwtvKeyNotFoundAfterRotation") == "firing")
        finally:
            prometheus.stop()
            nginx.cleanup()
            jwks.stop()


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class Revocations(unittest.TestCase):
    """auth_jwt_revocations: a revocation file, edited while nginx runs."""

    def write_list(self, nginx, document: dict):
        # Atomic replacement, as an operator's tooling does.
        (nginx.dir / "revoked.new").write_text(json.dumps(document))
        os.replace(nginx.dir / "revoked.new", nginx.dir / "revoked.json")

    def test_revoked_tokens_are_refused_and_the_file_is_re_read(self):
        block = f"""
    auth_jwt_key_file @DIR@/keys.json;
    auth_jwt_alg HS256;
    auth_jwt_audience api;
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api";
        location / {{ auth_jwt_revocations revoked.json; {PROXY} }}
        location /unchecked {{ {PROXY} }}
        location /metrics {{ auth_jwt off; auth_jwt_revocations @DIR@/revoked.json; auth_jwt_status; }}
    }}
"""
        files = {"keys.json": oct_jwks(("a", SECRET_A)), "revoked.json": json.dumps({"jti": {"token-1": NOW + 3600}})}
        nginx = Nginx(block, files).start()
        try:
            first, second = hs256(claims(jti="token-1")), hs256(claims(jti="token-2", sub="user-2"))
            status, _, headers = nginx.get("/", first)
            self.assertEqual(status, 401)
            self.assertEqual(headers["X-Jwt-Error"], "revoked")
            self.assertEqual(
                headers["WWW-Authenticate"], 'Bearer realm="api", error="invalid_token", error_description="revoked"'
            )
            self.assertEqual(nginx.get("/", second)[0], 200)
            # A location without the directive does not consult the list.
            self.assertEqual(nginx.get("/unchecked", first)[0], 200)

            # Revoking the second token's subject takes effect without a reload
            # (the file is looked at again at most once a second).
            time.sleep(1.1)
            self.write_list(nginx, {"jti": {"token-1": NOW + 3600}, "sub": {"user-2": NOW + 60}})
            deadline = time.time() + 5
            while nginx.get("/", second)[0] != 401 and time.time() < deadline:
                time.sleep(0.2)
            status, _, headers = nginx.get("/", second)
            self.assertEqual((status, headers["X-Jwt-Error"]), (401, "revoked"))
            self.assertEqual(nginx.get("/", hs256(claims(jti="token-3")))[0], 200)

            # A broken version keeps the last good list.
            time.sleep(1.1)
            (nginx.dir / "revoked.json").write_text("{ not json")
            time.sleep(1.1)
            self.assertEqual(nginx.get("/", second)[0], 401)
            self.assertEqual(nginx.get("/", hs256(claims(jti="token-3")))[0], 200)

            # The status endpoint of the same policy reports the list.
            status, text, _ = nginx.get("/metrics")
            self.assertEqual(status, 200)
            samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
            self.assertEqual(samples['jwtv_revocations{kind="jti"}'], "1")
            self.assertEqual(samples['jwtv_revocations{kind="sub"}'], "1")
            self.assertEqual(samples["jwtv_revocations_connected"], "0")
            self.assertGreaterEqual(int(samples["jwtv_revocations_sync_errors_total"]), 1)
            self.assertIn("jwtv_revocations_sync_lag_seconds", samples)
            self.assertGreaterEqual(int(samples['jwtv_verifications_total{result="revoked"}']), 3)
            self.assertIn("auth_jwt: token rejected: revoked jti", nginx.error_log())
            self.assertNotIn("[emerg]", nginx.error_log())
        finally:
            nginx.cleanup()

    def test_a_revocation_published_in_redis_reaches_the_workers(self):
        port = free_port()
        data = Path(tempfile.mkdtemp(prefix="jwtv-nginx-redis-"))
        redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "yes",
             "--dir", str(data)],
            stdout=subprocess.DEVNULL,
        )

        def redis_cli(*args):
            return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True).stdout

        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if redis_cli("PING").strip() == "PONG":
                    break
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.05)
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api";
        auth_jwt_key_file @DIR@/keys.json;
        auth_jwt_alg HS256;
        auth_jwt_audience api;
        auth_jwt_revocations redis://127.0.0.1:{port}/0;
        location / {{ {PROXY} }}
        location /metrics {{ auth_jwt off; auth_jwt_status; }}
    }}
"""
        nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))})
        try:
            nginx.start()
            token = hs256(claims(jti="token-9"))
            self.assertEqual(nginx.get("/", token)[0], 200)
            # What `jwtv revoke jti token-9 --until … --to redis://…` writes.
            exp = str(int(time.time()) + 3600)
            redis_cli("ZADD", "jwtv:revoked:jti", "GT", exp, "token-9")
            redis_cli("PUBLISH", "jwtv:revoked:events", f"add jti {exp} token-9")
            deadline = time.time() + 5
            while nginx.get("/", token)[0] != 401 and time.time() < deadline:
                time.sleep(0.05)
            status, _, headers = nginx.get("/", token)
            self.assertEqual((status, headers["X-Jwt-Error"]), (401, "revoked"))
            self.assertEqual(nginx.get("/", hs256(claims(jti="token-10")))[0], 200)

            # Redis goes away: the workers keep their copy and say it is stale.
            redis.kill()
            redis.wait()
            time.sleep(1.5)
            self.assertEqual(nginx.get("/", token)[0], 401)
            samples = dict(line.rsplit(" ", 1) for line in nginx.get("/metrics")[1].splitlines() if not line.startswith("#"))
            self.assertEqual(samples["jwtv_revocations_connected"], "0")
            self.assertEqual(samples['jwtv_revocations{kind="jti"}'], "1")
            self.assertGreaterEqual(int(samples["jwtv_revocations_sync_errors_total"]), 1)
            self.assertNotIn("[emerg]", nginx.error_log())
        finally:
            nginx.cleanup()
            redis.kill()
            redis.wait()
            shutil.rmtree(data, ignore_errors=True)

    def test_a_worker_starting_does_not_wait_for_redis(self):
        # A Redis that accepts connections and never answers.
        silent = socket.create_server(("127.0.0.1", 0))
        block = f"""
    server {{
        listen 127.0.0.1:@PORT@;
        auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg HS256; auth_jwt_audience api;
        auth_jwt_revocations redis://127.0.0.1:{silent.getsockname()[1]}/0;
        location / {{ {PROXY} }}
        location /public {{ auth_jwt off; {PROXY} }}
    }}
"""
        nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))})
        try:
            started = time.monotonic()
            nginx.start()
            self.assertEqual(nginx.get("/public")[0], 200)
            self.assertLess(time.monotonic() - started, 1.0)
            # Until its first sync the list is empty.
            self.assertEqual(nginx.get("/", hs256(claims()))[0], 200)
        finally:
            nginx.cleanup()
            silent.close()

    def test_a_redis_source_passes_nginx_t_without_connecting(self):
        # Nothing listens on port 1: `nginx -t` checks the URL's form only.
        block = """server { listen 127.0.0.1:@PORT@; auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json;
                   auth_jwt_revocations redis://127.0.0.1:1/0; location / { } }"""
        nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))})
        try:
            result = nginx.test_config()
            self.assertEqual(result.returncode, 0, result.stderr)
        finally:
            nginx.cleanup()


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class ConfigTest(unittest.TestCase):
    """`nginx -t` fails on a bad configuration, with a message that says why."""

    def check(self, location: str, expected: str, files: dict | None = None):
        block = f"server {{ listen 127.0.0.1:@PORT@; location / {{ {location} proxy_pass http://127.0.0.1:@BACKEND@; }} }}"
        nginx = Nginx(block, files)
        nginx.conf.write_bytes(nginx.conf.read_bytes().replace(b"@FF@", b"\xff"))  # a byte that is not UTF-8
        try:
            result = nginx.test_config()
            self.assertNotEqual(result.returncode, 0, location)
            self.assertIn(expected, result.stderr)
        finally:
            nginx.cleanup()

    def test_bad_configurations(self):
        keys = {"keys.json": oct_jwks(("a", SECRET_A))}
        self.check('auth_jwt "api";', "needs a key source")
        self.check('auth_jwt "api"; auth_jwt_key_file @DIR@/missing.json;', "keys.jwks_file")
        self.check('auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg none;', "unknown algorithm `none`", keys)
        self.check('auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg ES256;', "no usable key", keys)
        self.check('auth_jwt "api" cookie=x; auth_jwt_key_file @DIR@/keys.json;', "expected token=$variable", keys)
        self.check('auth_jwt "api"; auth_jwt_key_url ftp://x/jwks;', "scheme")
        # A key file and a URL merge (SeveralKeySources); a policy file takes no other key source.
        self.check('auth_jwt "api"; auth_jwt_policy @DIR@/keys.json; auth_jwt_key_url http://x/;', "cannot be combined", keys)
        self.check('auth_jwt "api"; auth_jwt_policy @DIR@/keys.json; auth_jwt_alg HS256;', "cannot be combined", keys)
        self.check('auth_jwt "api"; auth_jwt "again"; auth_jwt_key_file @DIR@/keys.json;', "is duplicate", keys)
        self.check('auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_revocations @DIR@/missing.json;',
                   "revocations.source", keys)
        self.check('auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_revocations @DIR@/keys.json;',
                   "invalid revocation list", keys)
        self.check('auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_revocations https://x/list;',
                   "unsupported scheme", keys)
        self.check('auth_jwt "api"; auth_jwt_policy @DIR@/keys.json; auth_jwt_revocations @DIR@/keys.json;',
                   "cannot be combined", keys)
        self.check('auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; auth_jwt_revocations a.json; '
                   'auth_jwt_revocations b.json;', "is duplicate", keys)

    def check_http(self, block: str, expected: str):
        """`nginx -t` of an http-level block fails with `expected`."""
        nginx = Nginx(block + " server { listen 127.0.0.1:@PORT@; location / { } }")
        try:
            result = nginx.test_config()
            self.assertNotEqual(result.returncode, 0, block)
            self.assertIn(expected, result.stderr)
        finally:
            nginx.cleanup()

    def test_plus_configurations_that_would_reject_every_request_fail(self):
        keys = {"keys.json": oct_jwks(("a", SECRET_A))}
        base = 'auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; '
        for kind in ("encrypted", "nested"):
            self.check(base + f"auth_jwt_type {kind};",
                       f'"auth_jwt_type" directive: {kind} tokens (JWE) are not supported', keys)
        # jwtv's own rules that Plus names differently moved; the old spelling points to the new one.
        self.check(base + "auth_jwt_type JWT;", 'to require a header typ, use "auth_jwt_typ JWT"', keys)
        self.check(base + "auth_jwt_require tenant acme;",
                   '"auth_jwt_require" directive: "tenant" is not a variable: it takes values that start with a '
                   'variable, as in NGINX Plus; to require a claim, use "auth_jwt_require_claim tenant"', keys)
        self.check(base + "auth_jwt_require $arg_x error=404;", 'invalid parameter "error=404" (error=401 or 403)', keys)
        self.check(base + "auth_jwt_require error=403;", "takes at least one value", keys)
        self.check(base + "auth_jwt_claim_set $x sub;", '"auth_jwt_claim_set" directive is not allowed here', keys)
        self.check('auth_jwt "api"; auth_jwt_key_request /_jwks;',
                   '"auth_jwt_key_request" directive: "/_jwks" is a URI: jwtv fetches keys itself, in the background')
        self.check('auth_jwt "api"; auth_jwt_key_request ftp://x/jwks;', '"auth_jwt_key_request" directive: keys.jwks_url')
        self.check_http("auth_jwt_claim_set x sub;", '"auth_jwt_claim_set" directive: invalid variable name "x"')
        self.check_http("auth_jwt_header_set $x;", 'invalid number of arguments in "auth_jwt_header_set"')
        self.check_http("auth_jwt_claim_set $x sub; auth_jwt_header_set $x kid;", 'the duplicate "x" variable')

    def test_lists_past_the_limit_fail_naming_the_directive(self):
        keys = {"keys.json": oct_jwks(("a", SECRET_A))}
        base = 'auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; '
        words = lambda n, stem: " ".join(f"{stem}{i}" for i in range(n))  # noqa: E731
        # (auth_jwt_alg names a set of 12 algorithms: a name given twice is the same algorithm.)
        over = {
            "auth_jwt_issuer": f"auth_jwt_issuer {words(33, 'https://i.test/')};",
            "auth_jwt_audience": f"auth_jwt_audience {words(33, 'aud')};",
            "auth_jwt_require_claim": "".join(f"auth_jwt_require_claim c{i};" for i in range(33)),
            "auth_jwt_crit": f"auth_jwt_crit {words(33, 'x-')};",
        }
        for directive, text in over.items():
            with self.subTest(directive):
                self.check(base + text, f'"{directive}" ', keys)
        with self.subTest("values over several lines"):
            self.check(base + f"auth_jwt_audience {words(20, 'a')}; auth_jwt_audience {words(13, 'b')};",
                       '"auth_jwt_audience" directive: audiences: at most 32 entries (33 given)', keys)
        with self.subTest("a claim required twice"):
            self.check(base + "auth_jwt_require_claim tenant a; auth_jwt_require_claim tenant b;",
                       '"auth_jwt_require_claim" directive: required_claim_values: duplicate name `tenant`', keys)
        with self.subTest("required values"):
            self.check(base + "".join(f"auth_jwt_require_claim c{i} v{i};" for i in range(33)),
                       '"auth_jwt_require_claim" directive: required_claim_values: at most 32 entries (33 given)', keys)
        # The limit itself passes.
        at_limit = (f"auth_jwt_issuer {words(32, 'https://i.test/')}; auth_jwt_audience {words(32, 'aud')}; "
                    + "".join(f"auth_jwt_require_claim c{i} v{i};" for i in range(32)))
        nginx = Nginx(f"server {{ listen 127.0.0.1:@PORT@; location / {{ {base}{at_limit} }} }}", keys)
        try:
            result = nginx.test_config()
            self.assertEqual(result.returncode, 0, result.stderr)
        finally:
            nginx.cleanup()

    def test_a_bad_value_in_each_rule_directive_names_the_directive_and_the_field(self):
        keys = {"keys.json": oct_jwks(("a", SECRET_A))}
        base = 'auth_jwt "api"; auth_jwt_key_file @DIR@/keys.json; '
        many = lambda n, stem: " ".join(f"{stem}{i}" for i in range(n))  # noqa: E731
        cases = [
            ("auth_jwt_key_file", 'auth_jwt "api"; auth_jwt_key_file @DIR@/missing.json;', "keys.jwks_file"),
            ("auth_jwt_key_url", 'auth_jwt "api"; auth_jwt_key_url ftp://x/jwks;', "keys.jwks_url"),
            ("auth_jwt_alg", base + "auth_jwt_alg HS256 none;", "algorithms[1]: unknown algorithm `none`"),
            ("auth_jwt_issuer", base + f"auth_jwt_issuer {many(33, 'i')};", "issuers: at most 32 entries"),
            ("auth_jwt_audience", base + f"auth_jwt_audience {many(33, 'a')};", "audiences: at most 32 entries"),
            ("auth_jwt_typ", base + 'auth_jwt_typ "at+jwt@FF@";', "typ: "),
            ("auth_jwt_key_cache", base + "auth_jwt_key_cache soon;", 'refresh.default_ttl_secs: not a time: "soon"'),
            ("auth_jwt_leeway", base + "auth_jwt_leeway 301s;", "leeway_secs: at most 300 s"),
            ("auth_jwt_leeway", base + "auth_jwt_leeway soon;", 'leeway_secs: not a time: "soon"'),
            ("auth_jwt_max_age", base + "auth_jwt_max_age -1;", "max_age_secs: not a time"),
            ("auth_jwt_max_lifetime", base + "auth_jwt_max_lifetime 0;", "max_lifetime_secs: must be positive"),
            ("auth_jwt_require_claim", base + "auth_jwt_require_claim level json=3.5;",
             "required_claim_values.level: 3.5: a number must be an integer"),
            ("auth_jwt_require_claim", base + "auth_jwt_require_claim level json=three;",
             "required_claim_values: `level`: not a JSON value"),
            ("auth_jwt_require_claim", base + "auth_jwt_require_claim /a~2 x;",
             "required_claim_values: `/a~2`: not a JSON Pointer"),
            ("auth_jwt_require_claim", base + "auth_jwt_require_claim sub x; auth_jwt_require_claim sub y;",
             "required_claim_values: duplicate name `sub`"),
            ("auth_jwt_crit", base + f"auth_jwt_crit {many(33, 'x-')};", "understood_crit: at most 32 entries"),
            ("auth_jwt_cache", base + "auth_jwt_cache lots;", "token_cache_size: "),
            ("auth_jwt_cache", base + "auth_jwt_cache -1;", "token_cache_size: "),
            ("auth_jwt_revocations", base + "auth_jwt_revocations https://x/list;", "revocations.source: "),
            ("auth_jwt_revocations", base + "auth_jwt_revocations @DIR@/missing.json;", "revocations.source: "),
            ("auth_jwt_policy", 'auth_jwt "api"; auth_jwt_policy @DIR@/keys.json;', "keys[0]: "),
        ]
        for directive, location, message in cases:
            with self.subTest(directive, message=message):
                self.check(location, f'"{directive}" directive: {message}', keys)

    def test_a_bad_value_fails_where_no_location_uses_it(self):
        # Each directive is checked as it is read, at its line, even under `auth_jwt off`.
        block = "auth_jwt_leeway 1h; server { listen 127.0.0.1:@PORT@; location / { } }"
        nginx = Nginx(block)
        try:
            result = nginx.test_config()
            self.assertNotEqual(result.returncode, 0)
            line = next(i for i, text in enumerate(nginx.conf.read_text().splitlines(), 1) if "auth_jwt_leeway" in text)
            self.assertIn('"auth_jwt_leeway" directive: leeway_secs: at most 300 s', result.stderr)
            self.assertIn(f"nginx.conf:{line}", result.stderr)
        finally:
            nginx.cleanup()

    def test_a_good_configuration_passes(self):
        block = ("server { listen 127.0.0.1:@PORT@; auth_jwt \"api\"; auth_jwt_key_file @DIR@/keys.json; "
                 "auth_jwt_type signed; location / { } }")
        nginx = Nginx(block, {"keys.json": oct_jwks(("a", SECRET_A))})
        try:
            self.assertEqual(nginx.test_config().returncode, 0)
        finally:
            nginx.cleanup()


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class ServerWideMetrics(unittest.TestCase):
    """auth_jwt_status with two workers: every scrape, whichever worker answers it, shows the sum over the
    workers; the counts of a worker killed with SIGKILL, or replaced by a reload, are neither lost nor counted
    twice once its successor runs."""

    WORKERS = 2

    def start(self, http: str = "", locations: str = ""):
        """nginx with `locations` (each with a policy of its own) before the two under test."""
        block = f"""
    {http}
    server {{
        listen 127.0.0.1:@PORT@ reuseport;  # fresh connections spread over the workers
        auth_jwt_key_file @DIR@/keys.json; auth_jwt_alg HS256; auth_jwt_audience api;
        add_header X-Pid $pid always;
        {locations}
        location / {{ auth_jwt "api"; root @DIR@/www; }}
        location /metrics {{ auth_jwt off; auth_jwt_status; }}
    }}
"""
        files = {"keys.json": oct_jwks(("a", SECRET_A)), "www/index.txt": "ok"}
        self.nginx = Nginx(block, files, workers=self.WORKERS).start()
        self.addCleanup(self.nginx.cleanup)
        self.wait_for_workers(set())

    def workers(self) -> set[int]:
        """The master's worker processes now."""
        master, children = self.nginx.proc.pid, set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                children.add(int(stat.parent.name))
        return children

    def wait_for_workers(self, gone: set[int]) -> set[int]:
        """Waits until the master runs WORKERS workers, none of them in `gone`."""
        deadline = time.time() + 15
        while time.time() < deadline:
            now = self.workers()
            if len(now) == self.WORKERS and not now & gone:
                return now
            time.sleep(0.05)
        raise AssertionError(f"workers {self.workers()} (gone: {gone})")

    def send(self, valid: int, expired: int, without: int) -> set[str]:
        """Requests, each over a new connection; the pids of the workers that answered."""
        pids = set()
        cases = [(hs256(claims()), 200)] * valid + [(hs256(claims(exp=NOW - 600)), 401)] * expired
        for token, want in cases + [(None, 401)] * without:
            status, _, headers = self.nginx.get("/index.txt", token)
            self.assertEqual(status, want)
            pids.add(headers["X-Pid"])
        return pids

    def scrape(self) -> tuple[tuple[int, ...], str]:
        """(tokens verified, expired, requests without a token, latency observations) and the answering pid."""
        status, text, headers = self.nginx.get("/metrics")
        self.assertEqual(status, 200)
        samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
        names = ('jwtv_verifications_total{result="ok"}', 'jwtv_verifications_total{result="expired"}',
                 "jwtv_requests_without_token_total", 'jwtv_verification_duration_seconds_count{outcome="valid"}')
        self.assertEqual(samples["jwtv_keys"], "1")
        return tuple(int(samples[name]) for name in names), headers["X-Pid"]

    def assert_every_scrape_shows(self, valid: int, expired: int, without: int):
        want = (valid, expired, without, valid)
        # The other worker publishes its counters every second: once they are in, every scrape shows the sum.
        deadline = time.time() + 5
        while self.scrape()[0] != want and time.time() < deadline:
            time.sleep(0.1)
        answered, scrapes = set(), 0
        while scrapes < 8 or (len(answered) < self.WORKERS and scrapes < 60):
            got, pid = self.scrape()
            self.assertEqual(got, want, f"scrape {scrapes} answered by {pid}")
            answered.add(pid)
            scrapes += 1
        self.assertEqual(len(answered), self.WORKERS, "every worker answered scrapes")

    def reload(self):
        """A reload, once the old workers have finished."""
        old = self.workers()
        os.kill(self.nginx.proc.pid, signal.SIGHUP)
        self.wait_for_workers(old)

    def test_every_scrape_shows_every_worker_through_a_kill_and_a_reload(self):
        self.start()
        served = self.send(20, 6, 4)
        self.assertEqual(len(served), self.WORKERS, "both workers verified tokens")
        self.assert_every_scrape_shows(20, 6, 4)

        # A worker killed: the master starts another; the killed one's counts stay, once.
        before = self.workers()
        victim = int(sorted(served)[0])
        os.kill(victim, signal.SIGKILL)
        self.wait_for_workers({victim})
        self.assert_every_scrape_shows(20, 6, 4)
        self.send(10, 0, 0)
        self.assert_every_scrape_shows(30, 6, 4)

        # A reload: new workers, the old ones finish and leave their counts.
        self.assertNotEqual(self.workers(), before)
        self.reload()
        self.assert_every_scrape_shows(30, 6, 4)
        self.send(5, 1, 1)
        self.assert_every_scrape_shows(35, 7, 5)
        log = self.nginx.error_log()
        self.assertNotIn("is full", log)
        self.assertNotRegex(log, r"\[(emerg|crit)\]")

    def test_a_worker_without_room_in_the_zone_is_still_counted(self):
        # Twenty more policies in the smallest zone: their records fit, a slot per worker in each does not,
        # and the policy under test, the last one a worker takes slots for, gets none.
        others = "".join(f'location /other{i} {{ auth_jwt "api"; auth_jwt_audience other{i}; }}\n' for i in range(20))
        self.start(http="auth_jwt_status_zone 64k;", locations=others)
        deadline = time.time() + 5
        while "is full" not in self.nginx.error_log() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn('auth_jwt: the zone "auth_jwtv_status" is full: this worker\'s counters are still counted',
                      self.nginx.error_log())
        self.assertEqual(len(self.send(20, 6, 4)), self.WORKERS)
        self.assert_every_scrape_shows(20, 6, 4)
        self.reload()
        self.assert_every_scrape_shows(20, 6, 4)
        self.send(5, 1, 1)
        self.assert_every_scrape_shows(25, 7, 5)
        self.assertNotRegex(self.nginx.error_log(), r"\[(emerg|crit)\]")


@unittest.skipUnless(MODULE, "NGINX_MODULE is not set")
class Parity(unittest.TestCase):
    """docs/parity.json: each field it says NGINX sets has a documented directive that takes the field's example."""

    FIELDS = json.loads((ROOT / "docs" / "parity.json").read_text())["fields"]
    README = (ROOT / "bindings" / "nginx" / "README.md").read_text()
    # Directives that set no field of the policy document.
    NOT_FIELDS = {"auth_jwt_policy", "auth_jwt_status", "auth_jwt_status_zone", "auth_jwt_type", "auth_jwt_require",
                  "auth_jwt_claim_set", "auth_jwt_header_set",
                  "auth_jwt_key_request"}  # (the last: auth_jwt_key_url under Plus's name)

    def test_the_rule_directives_are_the_ones_parity_json_names(self):
        documented = set(re.findall(r"^### (auth_jwt_\w+)$", self.README, re.M)) - self.NOT_FIELDS
        offered = {entry["nginx"] for entry in self.FIELDS.values() if entry.get("nginx")}
        self.assertEqual(documented, offered)

    def test_each_directive_takes_its_fields_example(self):
        for path, entry in self.FIELDS.items():
            if not entry.get("nginx"):
                continue
            example = entry["example"]
            if isinstance(example, str) and (ROOT / example).exists():
                example = str(ROOT / example)
            values = example.items() if isinstance(example, dict) else example if isinstance(example, list) else [example]
            rules = "".join(f"{entry['nginx']} {' '.join(map(str, v)) if isinstance(v, tuple) else v}; " for v in values)
            keys = "" if path.startswith("keys.") else f"auth_jwt_key_file {EXAMPLES}/jwks.json; "
            nginx = Nginx(f'server {{ listen 127.0.0.1:@PORT@; location / {{ auth_jwt "api"; {keys}{rules}}} }}')
            if isinstance(example, str) and example.endswith(".json") and not Path(example).is_absolute():
                # A file the repository does not hold: an empty one of that name, next to nginx.conf.
                (nginx.dir / example).parent.mkdir(parents=True, exist_ok=True)
                (nginx.dir / example).write_text("{}")
            try:
                with self.subTest(path, rules=rules):
                    result = nginx.test_config()
                    self.assertEqual(result.returncode, 0, result.stderr)
            finally:
                nginx.cleanup()


if __name__ == "__main__":
    unittest.main()
