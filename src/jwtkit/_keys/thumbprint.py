"""JWK Thumbprints (RFC 7638) and JWK Thumbprint URIs (RFC 9278).

The thumbprint hashes the canonical JSON of the required members only: sorted member names,
no whitespace, UTF-8 (RFC 7638 §3.2-3.3). The hash comes from ``cryptography``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType

from cryptography.hazmat.primitives import hashes

from .._codec import b64url_encode
from .._messages import short
from ..errors import InvalidKey

__all__ = ["THUMBPRINT_URI_PREFIX", "canonical_json", "thumbprint", "thumbprint_uri"]

#: RFC 9278 §3: the URN prefix, followed by the hash name and the base64url thumbprint.
THUMBPRINT_URI_PREFIX = "urn:ietf:params:oauth:jwk-thumbprint:"

# Accepted hash names -> (cryptography algorithm class, IANA "Named Information" name).
_HASHES: MappingProxyType[str, tuple[type[hashes.HashAlgorithm], str]] = MappingProxyType(
    {
        "sha256": (hashes.SHA256, "sha-256"),
        "sha384": (hashes.SHA384, "sha-384"),
        "sha512": (hashes.SHA512, "sha-512"),
    }
)


def canonical_json(members: Mapping[str, str]) -> bytes:
    """The RFC 7638 §3.3 canonical form: sorted names, no whitespace, UTF-8."""
    return json.dumps(
        dict(members), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _hash_for(hash_name: str) -> tuple[type[hashes.HashAlgorithm], str]:
    normalized = hash_name.lower().replace("-", "") if isinstance(hash_name, str) else None
    found = _HASHES.get(normalized) if normalized is not None else None
    if found is None:
        raise InvalidKey(
            f"unsupported thumbprint hash {short(hash_name)}; use 'sha256', 'sha384' or 'sha512'"
        )
    return found


def thumbprint(members: Mapping[str, str], hash_name: str = "sha256") -> str:
    """The base64url JWK Thumbprint of the required ``members`` (RFC 7638 §3.1)."""
    algorithm, _ = _hash_for(hash_name)
    digest = hashes.Hash(algorithm())
    digest.update(canonical_json(members))
    return b64url_encode(digest.finalize())


def thumbprint_uri(members: Mapping[str, str], hash_name: str = "sha256") -> str:
    """The JWK Thumbprint URI (RFC 9278 §3): ``urn:ietf:params:oauth:jwk-thumbprint:sha-256:..``."""
    _, iana_name = _hash_for(hash_name)
    return f"{THUMBPRINT_URI_PREFIX}{iana_name}:{thumbprint(members, hash_name)}"
