"""A browser without a browser: the authorization code flow driven over httpx.

Reads the forms of the service's pages with the standard library's HTML parser and submits
them as a browser would (cookies kept by the httpx client). Shared by the tests of
``/authorize``, the login and consent pages and ``/logout``.
"""

from __future__ import annotations

import dataclasses
import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from conftest import PASSWORD, Harness

from jwtkit.server.authorization import code_challenge_of
from jwtkit.server.credentials import hash_client_secret
from jwtkit.server.models import Client

REDIRECT_URI = "https://app.example/cb"
LOGOUT_URI = "https://app.example/bye"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")


@dataclasses.dataclass
class Form:
    """A form of a page: where it posts, its fields and its submit buttons."""

    action: str
    method: str
    fields: dict[str, str]
    buttons: list[tuple[str | None, str | None]]


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append(
                Form(values.get("action") or "", (values.get("method") or "get").lower(), {}, [])
            )
        elif self.forms and tag == "input" and values.get("name"):
            self.forms[-1].fields[str(values["name"])] = values.get("value") or ""
        elif self.forms and tag == "button":
            self.forms[-1].buttons.append((values.get("name"), values.get("value")))


def forms_of(html: str) -> list[Form]:
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


def form_of(response: httpx.Response) -> Form:
    """The one form of a page."""
    forms = forms_of(response.text)
    assert len(forms) == 1, response.text
    return forms[0]


def query_of(location: str) -> dict[str, str]:
    """The parameters of a redirect's query (each once)."""
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def pkce() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, code_challenge_of(verifier)


async def add_web_client(
    harness: Harness,
    client_id: str = "web",
    *,
    secret: str | None = None,
    first_party: bool = False,
    redirect_uris: tuple[str, ...] = (REDIRECT_URI,),
    scopes: tuple[str, ...] = OIDC_SCOPES,
    grants: tuple[str, ...] = ("authorization_code", "refresh_token"),
    post_logout_redirect_uris: tuple[str, ...] = (LOGOUT_URI,),
    id_token_alg: str | None = None,
    name: str = "The Web App",
) -> Client:
    """Store a client of the code flow (public unless ``secret``)."""
    client = Client(
        id=client_id,
        secret_hash=hash_client_secret(secret) if secret is not None else None,
        grant_types=grants,
        scopes=scopes,
        created_at=harness.clock(),
        name=name,
        redirect_uris=redirect_uris,
        first_party=first_party,
        post_logout_redirect_uris=post_logout_redirect_uris,
        id_token_signed_response_alg=id_token_alg,
    )
    await harness.store.add_client(client)
    return client


@dataclasses.dataclass
class Flow:
    """One authorization request's parameters, and what came back."""

    harness: Harness
    client_id: str = "web"
    redirect_uri: str | None = REDIRECT_URI
    scope: str | None = "openid profile email offline_access"
    state: str | None = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(8))
    nonce: str | None = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(8))
    extra: dict[str, str] = dataclasses.field(default_factory=dict)
    verifier: str = ""
    challenge: str = ""

    def __post_init__(self) -> None:
        self.verifier, self.challenge = pkce()

    def params(self, **changes: str | None) -> dict[str, str]:
        values: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **self.extra,
            **changes,
        }
        return {name: value for name, value in values.items() if value is not None}

    async def authorize(self, **changes: str | None) -> httpx.Response:
        response: httpx.Response = await self.harness.http.get(
            "/authorize", params=self.params(**changes)
        )
        return response

    async def submit(self, page: httpx.Response, **fields: str) -> httpx.Response:
        form = form_of(page)
        assert form.method == "post"
        response: httpx.Response = await self.harness.http.post(
            form.action, data={**form.fields, **fields}
        )
        return response

    async def log_in(
        self, page: httpx.Response, username: str = "alice", password: str = PASSWORD
    ) -> httpx.Response:
        return await self.submit(page, username=username, password=password)

    async def code(self, **changes: str | None) -> str:
        """Run the browser part (login, consent if asked) and return the code."""
        response = await self.authorize(**changes)
        if response.status_code == 200 and "password" in form_of(response).fields:
            response = await self.log_in(response)
        if response.status_code == 200:
            response = await self.submit(response, decision="allow")
        assert response.status_code in (302, 303), response.text
        location = response.headers["location"]
        assert location.startswith(self.redirect_uri or REDIRECT_URI), location
        answer = query_of(location)
        assert answer.get("state") == self.state
        assert answer["iss"] == self.harness.settings.issuer
        return answer["code"]

    async def exchange(self, code: str, **changes: str | None) -> httpx.Response:
        values: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier,
            "client_id": self.client_id,
            **changes,
        }
        data = {name: value for name, value in values.items() if value is not None}
        response: httpx.Response = await self.harness.http.post("/token", data=data)
        return response

    async def tokens(self, **changes: str | None) -> dict[str, Any]:
        response = await self.exchange(await self.code(**changes))
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer
