"""The weak secrets of an HMAC token: the shipped wordlist (``weak_secrets.txt``, package
data), wordlist files, and :func:`crack`, which tries candidates through the core's own
verification (RFC 8725 §3.5: a secret a person chose can be guessed offline from one token).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

from .._messages import safe
from ..errors import JWTError
from ..jwk import OctKey
from ..jws import verify as jws_verify
from .findings import Finding

__all__ = ["crack", "weak_secret_finding", "weak_secrets", "wordlist"]


def weak_secrets() -> list[bytes]:
    """The shipped list of weak secrets (``weak_secrets.txt``; ``#`` starts a comment line)."""
    text = resources.files("jwtkit._token_audit").joinpath("weak_secrets.txt").read_text("utf-8")
    return wordlist(text.encode("utf-8"))


def wordlist(data: bytes) -> list[bytes]:
    """The secrets of a wordlist: one per line (``\\r\\n`` or ``\\n``), compared byte for
    byte; empty lines and lines starting with ``#`` are skipped."""
    lines = (line.rstrip(b"\r") for line in data.split(b"\n"))
    return [line for line in lines if line and not line.startswith(b"#")]


def crack(token: str, algorithm: str, candidates: Iterable[bytes]) -> bytes | None:
    """The first candidate secret whose HMAC verifies ``token`` (via :func:`jwtkit.jws.verify`,
    which compares in constant time), or ``None``."""
    for secret in candidates:
        try:
            jws_verify(token, OctKey(secret, allow_weak=True), algorithms=[algorithm])
        except JWTError:
            continue
        return secret
    return None


def weak_secret_finding(token: str, algorithm: str, candidates: Iterable[bytes]) -> Finding | None:
    """The ``weak-secret`` finding when a candidate verifies ``token``'s HMAC: it names the
    secret (a well-known one, now to be rotated); ``None`` otherwise."""
    secret = crack(token, algorithm, candidates)
    if secret is None:
        return None
    shown = safe(secret.decode("utf-8", "replace"))
    return Finding(
        "weak-secret",
        "high",
        "signature",
        f"the {algorithm} secret is {shown}, a well-known weak secret: anyone can forge tokens",
        "rotate to a random secret of at least 32 bytes (jwtkit keygen --alg HS256) now",
    )
