"""The service's own demo client, for the guided walk-through of the page at ``/``.

When the ``demo`` setting is on (by default in development only), the service has the public
first-party client :data:`~.config.DEMO_CLIENT_ID` built in, as it has the password grant's
``first_party_client_id``: it is not stored, so it is there exactly while the setting is on,
and it cannot be changed (:func:`client_by_id` answers it before the store). The page
(docs/page.md, "The flow") is that client, an ordinary OAuth 2.1 browser client:

* public (RFC 6749 §2.1): no secret, no key, so it never authenticates;
* the authorization code grant with PKCE S256 (OAuth 2.1 §4.1, RFC 7636) and the refresh grant
  with rotation (RFC 9700 §4.14.2); never the password grant (RFC 9700 §2.4);
* one redirect URI, ``<issuer>/`` exactly (port included: it is a web page, not a native app,
  RFC 8252 §7.3), which is also its post-logout redirect URI (OpenID Connect RP-Initiated
  Logout 1.0 §3.1): the page that started the flow;
* the scopes ``openid profile offline_access``;
* access tokens that live ``demo_access_token_ttl`` seconds
  (:meth:`.Settings.access_token_ttl_for`), so that the walk-through shows one expire.

In development ``jwtkit serve`` also creates the user :data:`DEMO_USERNAME` with the documented
password :data:`DEMO_PASSWORD` when no user has that name (:func:`install_demo_user`), and the
page shows them (:func:`demo_description`, ``GET /demo``): never in production.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from .config import DEMO_CLIENT_ID, DEMO_PASSWORD, DEMO_USERNAME
from .models import Client, User
from .storage.base import Conflict

if TYPE_CHECKING:
    from .config import Settings
    from .passwords import PasswordHasher
    from .storage import Store

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_NAME",
    "DEMO_GRANTS",
    "DEMO_PASSWORD",
    "DEMO_SCOPES",
    "DEMO_USERNAME",
    "client_by_id",
    "demo_client",
    "demo_description",
    "demo_redirect_uri",
    "install_demo_user",
]

#: The name of the demo client (shown on the login page).
DEMO_CLIENT_NAME = "jwtkit demo (the page at /)"
#: The grants of the demo client: the browser flow and rotated refresh tokens, nothing else.
DEMO_GRANTS = ("authorization_code", "refresh_token")
#: The scopes of the demo client.
DEMO_SCOPES = ("openid", "profile", "offline_access")


def demo_redirect_uri(settings: Settings) -> str:
    """The demo client's one redirect URI: the page at ``/`` of the issuer, ``<issuer>/``."""
    return settings.issuer.rstrip("/") + "/"


def demo_client(settings: Settings) -> Client:
    """The demo client, built from the settings (:func:`client_by_id` answers it)."""
    page = demo_redirect_uri(settings)
    return Client(
        id=DEMO_CLIENT_ID,
        secret_hash=None,
        grant_types=DEMO_GRANTS,
        scopes=DEMO_SCOPES,
        created_at=0.0,
        name=DEMO_CLIENT_NAME,
        redirect_uris=(page,),
        first_party=True,
        post_logout_redirect_uris=(page,),
    )


async def client_by_id(store: Store, settings: Settings, client_id: str) -> Client | None:
    """The client ``client_id``: the built-in demo client while ``settings.demo_enabled``
    (whatever the store holds under that id), else the stored one, if any."""
    if client_id == DEMO_CLIENT_ID and settings.demo_enabled:
        return demo_client(settings)
    return await store.client_by_id(client_id)


async def install_demo_user(
    store: Store, settings: Settings, hasher: PasswordHasher, now: float
) -> bool:
    """Create the user :data:`DEMO_USERNAME` (password :data:`DEMO_PASSWORD`) unless a user
    has that name; only in development with the demo on. Returns whether the demo user is
    offered (it exists, created now or before)."""
    if settings.environment != "development" or not settings.demo_enabled:
        return False
    if await store.user_by_name(DEMO_USERNAME) is not None:
        return True
    user = User(
        id=uuid.uuid4().hex,
        username=DEMO_USERNAME,
        password_hash=await hasher.hash(DEMO_PASSWORD),
        created_at=now,
        name="Demo User",
    )
    with suppress(Conflict):  # another worker created it meanwhile
        await store.add_user(user)
    return True


def demo_description(settings: Settings, *, with_user: bool) -> dict[str, Any]:
    """What the page needs to run the walk-through (``GET /demo``): whether the demo is
    ``enabled``; when it is, the client id, redirect URI, scopes and access-token lifetime, and
    with ``with_user`` (development only) the demo user's name and password. (Always an
    answer, never a 404, so that the page asks without a failed request in the console.)"""
    if not settings.demo_enabled:
        return {"enabled": False}
    described: dict[str, Any] = {
        "enabled": True,
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": demo_redirect_uri(settings),
        "scope": " ".join(DEMO_SCOPES),
        "access_token_ttl": settings.access_token_ttl_for(DEMO_CLIENT_ID),
    }
    if with_user and settings.environment == "development":
        described["user"] = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    return described
