#!/usr/bin/env python3
"""registry-token.py — the token service of a docker-registry under token auth

    registry-token.py PORT USER PASSWORD KEY CERT SERVICE ISSUER LOG

What docker distribution's "token" auth asks of an issuer: GET /token with
Basic credentials and ?service=&scope=repository:NAME:ACTIONS answers a JWT
(RS256, the signing certificate in its x5c header, which the registry checks
against its rootcertbundle) granting the scopes asked for. Wrong or missing
credentials get 401. POST /token takes OAuth2's password grant (a form of
grant_type=password, username, password, scope, service), as containerd asks
first, and answers access_token. Each request is one line of LOG: "token 200
SCOPE", "token 401 SCOPE", "oauth 200 SCOPE" or "oauth 401 SCOPE", for the
tests to read. Listens on 127.0.0.1:PORT until killed.
"""
import base64
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

PORT, USER, PASSWORD, KEY, CERT, SERVICE, ISSUER, LOG = sys.argv[1:9]
with open(KEY, "rb") as f:
    PRIVATE = serialization.load_pem_private_key(f.read(), password=None)
with open(CERT, "rb") as f:
    DER = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(subject, scopes):
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) == 3:
            access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(DER).decode()]}
    claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 300,
              "nbf": now - 10, "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = PRIVATE.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing + "." + b64url(signature)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        scopes = parse_qs(url.query).get("scope", [])
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        ok = url.path == "/token" and self.headers.get("Authorization") == expected
        with open(LOG, "a") as log:
            log.write(f"token {200 if ok else 401} {' '.join(scopes)}\n")
        if not ok:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="token"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"token": token(USER, scopes), "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # containerd with credentials asks by OAuth2's password grant first (a form POST answered
    # with access_token), and falls back to GET only on 404 or 405.
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(min(length, 65536)).decode(errors="replace"))
        scopes = " ".join(form.get("scope", [])).split()
        ok = (urlparse(self.path).path == "/token" and form.get("grant_type") == ["password"]
              and form.get("username") == [USER] and form.get("password") == [PASSWORD])
        with open(LOG, "a") as log:
            log.write(f"oauth {200 if ok else 401} {' '.join(scopes)}\n")
        if not ok:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"access_token": token(USER, scopes), "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
