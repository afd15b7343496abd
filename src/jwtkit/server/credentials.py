"""Credentials of the token service: client secrets, refresh tokens and client authentication.

What is made, hashed and compared here: client secrets (256 random bits, stored as a SHA-256
digest and compared in constant time), refresh tokens (256 random bits, stored as SHA-256 only;
during a grace period the successor is derived), and the client credentials a request presents
(:class:`ClientAuth`, HTTP Basic; client assertions are verified by
:mod:`~.client_assertions`). Why a fast hash suffices for these, and how successors are
derived: docs/server.md, "How it works". :func:`secrets_equal` compares a configured secret
(the initial access token of client registration) with a presented one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .oauth_errors import invalid_client

__all__ = [
    "ARGON2_PREFIX",
    "MAX_TOKEN_LENGTH",
    "ClientAuth",
    "derive_dpop_nonce_key",
    "derive_successor",
    "derive_successor_key",
    "hash_client_secret",
    "hash_refresh_token",
    "new_client_secret",
    "new_refresh_token",
    "parse_basic_authorization",
    "secrets_equal",
    "verify_client_secret",
]

#: The longest token (access or refresh) that is looked at; longer ones are refused unread.
MAX_TOKEN_LENGTH = 8192
#: The scheme prefix of a stored client-secret digest (older hashes start with ``$argon2``).
_CLIENT_SECRET_SCHEME = "sha256$"
#: The prefix of a client-secret hash of older versions (verified by the password hasher).
ARGON2_PREFIX = "$argon2"
_SUCCESSOR_LABEL = b"jwtkit refresh-token successor v1\x00"


def new_refresh_token() -> str:
    """A new opaque refresh token: 256 random bits, base64url (RFC 9700 §4.14)."""
    return secrets.token_urlsafe(32)


def _derived_key(key_encryption_key: bytes, purpose: bytes) -> bytes:
    """A 32-byte secret for one ``purpose``: HKDF-SHA256 (RFC 5869) of the key-encryption key,
    which every instance and worker of the service has, so that all of them agree on it
    without a secret of its own; another ``purpose`` gives an unrelated secret."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(key_encryption_key)


def derive_successor_key(key_encryption_key: bytes) -> bytes:
    """The 32-byte secret that derives refresh-token successors during a grace period."""
    return _derived_key(key_encryption_key, b"jwtkit refresh-token successor key")


def derive_dpop_nonce_key(key_encryption_key: bytes) -> bytes:
    """The 32-byte secret of the DPoP nonces the service issues (RFC 9449 §8): every
    instance accepts the nonces of every other."""
    return _derived_key(key_encryption_key, b"jwtkit dpop nonce key")


def derive_successor(successor_key: bytes, presented: str) -> str:
    """The successor of the refresh token ``presented`` during a grace period:
    base64url(HMAC-SHA256(``successor_key``, label || ``presented``))."""
    digest = hmac.new(
        successor_key,
        _SUCCESSOR_LABEL + presented.encode("utf-8", "surrogatepass"),
        hashlib.sha256,
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_client_secret() -> str:
    """A new client secret: 256 random bits, base64url (shown once, stored as
    :func:`hash_client_secret`)."""
    return secrets.token_urlsafe(32)


def _secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def hash_client_secret(secret: str) -> str:
    """The stored form of a client secret: ``sha256$`` + base64url(SHA-256(secret)).

    For server-generated, high-entropy secrets only (:func:`new_client_secret`): a fast hash is
    safe because nobody can guess 256 random bits; passwords people choose need Argon2id.
    """
    encoded = base64.urlsafe_b64encode(_secret_digest(secret)).rstrip(b"=").decode("ascii")
    return _CLIENT_SECRET_SCHEME + encoded


#: Compared with when there is no digest to compare with (unknown or public client, a
#: malformed stored value), so that every failure costs the same as a wrong secret.
_DUMMY_CLIENT_SECRET_HASH = hash_client_secret(secrets.token_urlsafe(32))


def verify_client_secret(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` matches a :func:`hash_client_secret` digest, in constant time.

    ``None`` (an unknown or public client) and anything that is not such a digest (including
    an older ``$argon2`` hash, which :class:`~.tokens.TokenService` verifies with the password
    hasher) cost the same SHA-256 and comparison against a dummy digest, and give ``False``.
    """
    known = (
        stored_hash is not None
        and stored_hash.startswith(_CLIENT_SECRET_SCHEME)
        and stored_hash.isascii()
    )
    target = stored_hash if known and stored_hash is not None else _DUMMY_CLIENT_SECRET_HASH
    matched = hmac.compare_digest(hash_client_secret(secret).encode(), target.encode())
    return matched and known


def secrets_equal(expected: str, presented: str) -> bool:
    """Whether ``presented`` is the secret ``expected``, in a time that tells nothing about
    either: their SHA-256 digests are compared with :func:`hmac.compare_digest`, so not even the
    length of the secret shows."""
    return hmac.compare_digest(_secret_digest(expected), _secret_digest(presented))


def hash_refresh_token(token: str) -> bytes:
    """The SHA-256 under which a refresh token is stored (the token itself never is)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class ClientAuth:
    """The client credentials presented with a request (RFC 6749 §2.3).

    ``method`` is ``"client_secret_basic"``, ``"client_secret_post"`` (with
    ``client_secret``), ``"private_key_jwt"`` (with ``client_assertion``, a JWT the client
    signed: RFC 7523 §2.2, :mod:`~.client_assertions`) or ``"none"`` (a public client that only
    names itself with ``client_id``, or no client at all). ``client_id`` is optional with an
    assertion, which names its client itself.
    """

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    method: str = "none"
    client_assertion: str | None = field(default=None, repr=False)


def parse_basic_authorization(header: str) -> tuple[str, str]:
    """(client_id, client_secret) from ``Authorization: Basic ...`` (RFC 6749 §2.3.1).

    Both parts are form-urlencoded before base64 (RFC 6749 Appendix B). Raises
    ``invalid_client`` (401) for anything malformed.
    """
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise invalid_client("the Authorization header must use the Basic scheme")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid_client("malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise invalid_client("malformed Basic credentials")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
