"""Registered JOSE header parameters and JWT claims, each explained in a word or two.

Sources: RFC 7515 §4.1 and RFC 7516 §4.1 (header), RFC 7519 §4.1 (registered claims), and the
IANA "JSON Web Token Claims" registry entries from OpenID Connect Core 1.0 §2 and §5.1,
RFC 8693 §4 (``act``, ``may_act``, ``scope``, ``client_id``), RFC 7800 §3 (``cnf``) and
RFC 9068 §2.2 (access tokens).
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CLAIMS", "HEADER", "TIME_CLAIMS"]

#: Header parameters (RFC 7515 §4.1, RFC 7516 §4.1, RFC 7518 §4, RFC 7797 §3).
HEADER = MappingProxyType(
    {
        "alg": "algorithm",
        "typ": "token type",
        "cty": "content type",
        "kid": "key ID",
        "jku": "key set URL",
        "jwk": "embedded public key",
        "x5u": "certificate URL",
        "x5c": "certificate chain",
        "x5t": "certificate SHA-1 thumbprint",
        "x5t#S256": "certificate SHA-256 thumbprint",
        "crit": "critical extensions",
        "b64": "payload encoding",
        "enc": "content encryption",
        "zip": "compression",
        "epk": "ephemeral public key",
        "apu": "agreement PartyUInfo",
        "apv": "agreement PartyVInfo",
        "iv": "initialization vector",
        "tag": "authentication tag",
        "p2s": "PBES2 salt",
        "p2c": "PBES2 iterations",
    }
)

#: Claims (RFC 7519 §4.1 and the IANA registry).
CLAIMS = MappingProxyType(
    {
        "iss": "issuer",
        "sub": "subject",
        "aud": "audience",
        "exp": "expires",
        "nbf": "not before",
        "iat": "issued at",
        "jti": "token ID",
        "scope": "scopes",
        "client_id": "client",
        "azp": "authorized party",
        "nonce": "replay nonce",
        "auth_time": "authenticated at",
        "acr": "authentication class",
        "amr": "authentication methods",
        "sid": "session ID",
        "at_hash": "access token hash",
        "c_hash": "code hash",
        "cnf": "confirmation key",
        "act": "actor",
        "may_act": "may act for",
        "roles": "roles",
        "groups": "groups",
        "entitlements": "entitlements",
        "name": "full name",
        "given_name": "given name",
        "family_name": "family name",
        "preferred_username": "username",
        "email": "e-mail",
        "email_verified": "e-mail verified",
        "phone_number": "phone",
        "locale": "locale",
        "zoneinfo": "time zone",
        "updated_at": "profile updated",
    }
)

#: Claims whose value is a NumericDate (RFC 7519 §2), shown as times.
TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time", "updated_at")
