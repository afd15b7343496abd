"""Keys and hand-made SD-JWTs for the SD-JWT tests: payloads signed as they are, so that every
malformed structure RFC 9901 §7.1 names can be built."""

from __future__ import annotations

from typing import Any

from jwtkit import Key, encode
from jwtkit._sd.disclosures import hasher
from jwtkit.sd_jwt import Disclosure, SDJWTVerifier

#: A frozen "now" (2023-11-14T22:13:20Z).
NOW = 1_700_000_000
ISSUER = Key.generate("ES256")
HOLDER = Key.generate("ES256")
OTHER = Key.generate("ES256")
AUDIENCE = "https://verifier.example"
NONCE = "n-0S6_WzA2Mj"
digest = hasher("sha-256")


def disclosure(name: str | None, value: Any, salt: str = "c2FsdHNhbHRzYWx0c2FsdA") -> Disclosure:
    return Disclosure.create(salt, name, value)


def signed(payload: dict[str, Any], *disclosures: Disclosure | str, key: Key = ISSUER) -> str:
    """``payload`` signed as it is (ES256, typ sd-jwt), followed by ``disclosures``."""
    token = encode(payload, key, "ES256", typ="sd-jwt")
    return token + "~" + "".join(str(d) + "~" for d in disclosures)


def verifier(**kwargs: Any) -> SDJWTVerifier:
    return SDJWTVerifier(ISSUER.public_key(), algorithms=["ES256"], **kwargs)


def kb_verifier(**kwargs: Any) -> SDJWTVerifier:
    return verifier(**{"require_key_binding": True, "key_binding_audience": AUDIENCE, **kwargs})
