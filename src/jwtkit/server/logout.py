"""RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0), framework-free.

A client sends the browser to the ``end_session_endpoint`` (``/logout``) with, optionally,
``id_token_hint`` (an ID token this service issued it), ``client_id``,
``post_logout_redirect_uri`` and ``state``. :func:`read_logout_request` checks them (§2, §3):

* ``post_logout_redirect_uri`` must be one of the client's registered
  ``post_logout_redirect_uris``, compared exactly, and needs the client to be known (from
  ``client_id`` or the hint's ``aud``); otherwise an HTML error page and no redirect, so that
  the endpoint is no open redirector;
* an ``id_token_hint`` that is not an ID token of this service, or names another client than
  ``client_id``, is refused the same way.

The HTTP layer then logs out at once when the hint names the browser's current session
(``sid``), and otherwise asks the user to confirm (§2: a logout request can be forged by any
page, so the OP asks unless it knows the request comes from the client the user logged in to).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jwtkit._oauth import is_client_id

from .authorization import MAX_STATE_LENGTH, PageError
from .demo import client_by_id
from .id_tokens import read_id_token_hint

if TYPE_CHECKING:
    from .config import Settings
    from .keyring import KeyRing
    from .models import Client
    from .storage import Store

__all__ = ["LogoutRequest", "read_logout_request"]


@dataclass(frozen=True)
class LogoutRequest:
    """A valid logout request: the client (if known), where to send the browser afterwards
    (``None``: the service's own "logged out" page), ``state`` and the hint's claims."""

    client: Client | None
    post_logout_redirect_uri: str | None
    state: str | None
    hint: dict[str, Any] | None

    def names_session(self, sid: str) -> bool:
        """Whether the ``id_token_hint`` was issued in the login session ``sid``."""
        return self.hint is not None and self.hint.get("sid") == sid

    def redirect_url(self) -> str | None:
        """Where the browser goes after the logout (with ``state``), or ``None``."""
        uri = self.post_logout_redirect_uri
        if uri is None:
            return None
        if self.state is None:
            return uri
        separator = "&" if "?" in uri else "?"
        return f"{uri}{separator}{urlencode({'state': self.state})}"


async def read_logout_request(
    store: Store, keyring: KeyRing, settings: Settings, params: Mapping[str, str]
) -> LogoutRequest:
    """Check a logout request's parameters (the module's docstring); :class:`PageError` if
    they cannot be honoured."""
    hint: dict[str, Any] | None = None
    token = params.get("id_token_hint")
    if token is not None:
        hint = read_id_token_hint(keyring, settings, token)
        if hint is None:
            raise PageError(
                "Invalid logout request", "The id_token_hint is not an ID token of ours."
            )
    client_id = params.get("client_id")
    if client_id is not None and not is_client_id(client_id):
        raise PageError("Invalid logout request", "The client_id is not valid.")
    if hint is not None:
        if client_id is not None and client_id != hint["aud"]:
            raise PageError(
                "Invalid logout request", "The id_token_hint was issued to another client."
            )
        client_id = str(hint["aud"])
    client = await client_by_id(store, settings, client_id) if client_id is not None else None
    state = params.get("state")
    if state is not None and len(state) > MAX_STATE_LENGTH:
        raise PageError("Invalid logout request", "The state parameter is too long.")
    uri = params.get("post_logout_redirect_uri")
    if uri is not None and (client is None or uri not in client.post_logout_redirect_uris):
        raise PageError(
            "Invalid logout request",
            "The post_logout_redirect_uri is not one the application registered. You have not "
            "been redirected.",
        )
    return LogoutRequest(client, uri, state, hint)
