"""A minimal OpenID Connect provider on 127.0.0.1 for the sign-in tests.

Just enough of the authorization-code flow for Streamlit's ``st.login`` (Authlib): a
discovery document, an authorization endpoint that approves its one user at once, a token
endpoint that checks the client's secret and issues an RS256-signed id_token carrying the
request's nonce, the JSON Web Key Set that verifies it, and userinfo.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

TOKEN_LIFETIME_S = 300
KEY_ID = "test-signing-key"


@dataclass(frozen=True)
class Identity:
    """The provider's one user, as its id_token and userinfo describe them."""

    sub: str
    name: str
    email: str


@dataclass
class OidcProvider:
    """The provider's state: its client, its user, the codes it issued, its key."""

    client_id: str
    client_secret: str
    user: Identity
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"}))
    codes: dict[str, dict] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    authorizations: int = 0  # how many times a browser came through /authorize
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
        }

    def claims(self) -> dict:
        return {"sub": self.user.sub, "name": self.user.name, "email": self.user.email}

    def authorize(self, query: dict[str, str]) -> str:
        """The redirect back to the client with a one-time code for the user."""
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            raise PermissionError("unknown client or response type")
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.authorizations += 1
            self.codes[code] = {"redirect_uri": query["redirect_uri"],
                                "nonce": query.get("nonce")}
        answer = {"code": code, "state": query["state"]} if "state" in query else {"code": code}
        return f"{query['redirect_uri']}?{urlencode(answer)}"

    def token(self, form: dict[str, str], client: tuple[str, str]) -> dict:
        """Exchange a code (once) for an access token and a signed id_token."""
        if client != (self.client_id, self.client_secret):
            raise PermissionError("wrong client credentials")
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if (form.get("grant_type") != "authorization_code" or grant is None
                or form.get("redirect_uri") != grant["redirect_uri"]):
            raise PermissionError("invalid grant")
        now = int(time.time())
        id_claims = {**self.claims(), "iss": self.issuer, "aud": self.client_id,
                     "iat": now, "exp": now + TOKEN_LIFETIME_S}
        if grant["nonce"] is not None:
            id_claims["nonce"] = grant["nonce"]
        access_token = secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens.add(access_token)
        return {"access_token": access_token, "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_S, "scope": "openid profile email",
                "id_token": jwt.encode({"alg": "RS256", "kid": KEY_ID}, id_claims, self.key)}

    def userinfo(self, access_token: str) -> dict:
        if access_token not in self.access_tokens:
            raise PermissionError("unknown access token")
        return self.claims()

    def jwks(self) -> dict:
        return {"keys": [self.key.as_dict(private=False)]}


def _client_credentials(authorization: str | None, form: dict[str, str]) -> tuple[str, str]:
    """The client's id and secret, from HTTP Basic or from the form body."""
    if authorization and authorization.startswith("Basic "):
        client_id, _, client_secret = (
            base64.b64decode(authorization[len("Basic "):]).decode().partition(":"))
        return client_id, client_secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass  # keep test output to what fails

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            try:
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, provider.discovery())
                elif url.path == "/jwks":
                    self._json(200, provider.jwks())
                elif url.path == "/authorize":
                    self.send_response(302)
                    self.send_header("Location", provider.authorize(query))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path == "/userinfo":
                    bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    self._json(200, provider.userinfo(bearer))
                else:
                    self._json(404, {"error": "not_found"})
            except (PermissionError, KeyError) as error:
                self._json(400, {"error": "invalid_request", "error_description": str(error)})

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = {key: values[0] for key, values
                    in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            try:
                client = _client_credentials(self.headers.get("Authorization"), form)
                self._json(200, provider.token(form, client))
            except PermissionError as error:
                self._json(400, {"error": "invalid_grant", "error_description": str(error)})

    return Handler


@contextmanager
def running_oidc_provider(client_id: str, client_secret: str,
                          user: Identity) -> Iterator[OidcProvider]:
    """Serve an ``OidcProvider`` on a free port of 127.0.0.1 until exit."""
    provider = OidcProvider(client_id, client_secret, user)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
