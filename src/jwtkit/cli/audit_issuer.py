"""``jwtkit audit --issuer URL``: lint a live issuer's metadata and JWK Set.

The documents are fetched through :mod:`jwtkit.remote` (its URL policy, size cap, timeout and
checked redirects); the checks here are pure functions of what was fetched. Findings use the
model of the token audit (:mod:`._findings`). The checks (``docs/cli.md`` lists them with
their severities):

* metadata (RFC 8414 §2-3, OpenID Connect Discovery 1.0 §3-4): fetched from both well-known
  locations (RFC 8414 §3.1 inserts the well-known path before the issuer's path, OpenID
  Connect Discovery §4.1 appends it); ``issuer`` equal to the URL, character for character
  (RFC 8414 §3.3, OpenID Connect Discovery §4.3: else mix-up); the required members;
  ``https`` for every endpoint and ``jwks_uri`` (RFC 8414 §2); ``none`` advertised for
  signatures, ``RSA1_5`` for key encryption (RFC 8725 §3.2), HMAC for ID tokens (OpenID
  Connect Core §10.1); PKCE without ``S256`` or with ``plain`` (RFC 9700 §2.1.1, RFC 7636
  §4.2); the implicit and password grants and response types that put an access token in
  the front channel (RFC 9700 §2.1.2, §2.4; OAuth 2.1);
* the JWK Set (RFC 7517): secrets (``oct``) and private members published (critical), RSA
  keys under 2048 bits (RFC 7518 §3.3) or with a small public exponent, an ``alg``, ``use``
  or ``key_ops`` that does not fit the key (RFC 7517 §4.2-4.4), a certificate chain that does
  not hold the key, any other key that jwtkit skips (with jwtkit's reason), duplicate or
  missing ``kid`` (RFC 7517 §4.5), the signing keys published per algorithm (rotation
  overlap), algorithms advertised for ID tokens without a key;
* HTTP: redirects, content types (RFC 8414 §3.2, RFC 7517 §8.5), and the JWK Set's
  ``Cache-Control`` (RFC 9111 §5.2.2.1).

One fetch of each document: watching a rotation over time is not done here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from .._messages import short
from .._urls import is_loopback_host
from ..errors import JWTError
from ..jwa import SIGNATURE_ALGORITHMS
from ..jwk import Key, KeySet, RSAKey
from ._findings import Finding
from ._output import printable
from ._time import human_duration

if TYPE_CHECKING:
    from ..remote._http import Document
    from ..remote._issuer import IssuerDocuments

__all__ = [
    "IssuerAudit",
    "audit_jwks",
    "audit_metadata",
    "audit_response",
    "run_issuer_audit",
    "signing_keys",
]

#: Members OpenID Connect Discovery 1.0 §3 requires (token_endpoint: unless only the implicit
#: flow is used, which is itself a finding).
OPENID_REQUIRED = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
)
#: Members RFC 8414 §2 requires (authorization_endpoint: unless no grant type uses it).
OAUTH_REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "response_types_supported")
#: Members that hold private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2;
#: RFC 9964 §3: an AKP key's ``priv``).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv")
#: The least and the most ``max-age`` that makes sense for a JWK Set, in seconds: below, every
#: verification may refetch; above, a key the issuer removed (compromised) stays trusted.
JWKS_MIN_MAX_AGE = 60.0
JWKS_MAX_MAX_AGE = 86_400.0
_MIN_RSA_BITS = 2048
_MIN_RSA_EXPONENT = 65537
_METADATA_TYPES = ("application/json",)
_JWKS_TYPES = ("application/jwk-set+json", "application/json")
_LINKS = ("service_documentation", "op_policy_uri", "op_tos_uri")
_CERTIFICATE_MEMBERS = ("x5c", "x5t", "x5t#S256")


def _finding(id: str, severity: str, location: str, message: str, fix: str) -> Finding:
    return Finding(id, severity, printable(location), message, fix)


# -- metadata --------------------------------------------------------------------------------


def _strings(value: object) -> list[str] | None:
    """The strings of a JSON array of strings, else ``None``."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _required(metadata: Mapping[str, Any], openid: bool) -> list[str]:
    names = list(OPENID_REQUIRED if openid else OAUTH_REQUIRED)
    grants = _strings(metadata.get("grant_types_supported"))
    if grants is not None and not {"authorization_code", "implicit"} & set(grants):
        names.remove("authorization_endpoint")  # RFC 8414 §2: no grant uses it
    # a missing issuer is issuer-mismatch
    return [name for name in names if name not in metadata and name != "issuer"]


def _url_members(metadata: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    """(location, value) of every URL the metadata holds: ``*_endpoint``, ``*_uri``, the
    documentation links and ``mtls_endpoint_aliases`` (RFC 8705 §5)."""
    for name, value in metadata.items():
        if name.endswith(("_endpoint", "_uri")) or name in _LINKS:
            yield name, value
    aliases = metadata.get("mtls_endpoint_aliases")
    if isinstance(aliases, Mapping):
        for name, value in aliases.items():
            yield f"mtls_endpoint_aliases.{name}", value


def _url_findings(metadata: Mapping[str, Any], issuer: str, where: str) -> Iterator[Finding]:
    """Plain ``http`` is a finding unless both the URL and the issuer are on loopback (the
    issuer passed the URL policy, so an ``http`` issuer is a loopback one)."""
    development = urlsplit(issuer).scheme == "http"
    for name, value in _url_members(metadata):
        location = f"{where}.{name}"
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in {"https", "http"} or not parts.hostname:
            yield _finding(
                "metadata-invalid",
                "medium",
                location,
                f"{name} is not an absolute https URL: {short(value)}",
                "publish an absolute https URL (RFC 8414 §2)",
            )
        elif parts.scheme == "http" and not (development and is_loopback_host(parts.hostname)):
            link = name in _LINKS
            yield _finding(
                "http-link" if link else "http-endpoint",
                "low" if link else "high",
                location,
                f"{name} uses plain http: {short(value)}"
                + ("" if link else "; anyone on the path can read or replace what it serves"),
                "serve it over https (RFC 8414 §2: endpoints and jwks_uri MUST use https)",
            )


def _issuer_findings(metadata: Mapping[str, Any], issuer: str, where: str) -> list[Finding]:
    found = metadata.get("issuer")
    if found == issuer:
        return []
    what = "has no issuer" if found is None else f"names issuer {short(found)}"
    return [
        _finding(
            "issuer-mismatch",
            "high",
            f"{where}.issuer",
            f"the metadata {what}, not {short(issuer)}: clients that check it refuse the "
            "issuer, and clients that do not can be sent to another one (mix-up)",
            "publish the issuer exactly as clients are configured with it, character for "
            "character (RFC 8414 §3.3, OpenID Connect Discovery 1.0 §4.3)",
        )
    ]


def _algorithm_findings(metadata: Mapping[str, Any], where: str) -> Iterator[Finding]:
    for name, value in metadata.items():
        if not name.endswith(("_alg_values_supported", "_enc_values_supported")):
            continue
        location = f"{where}.{name}"
        values = _strings(value)
        if values is None:
            yield _finding(
                "metadata-invalid",
                "medium",
                location,
                f"{name} is not an array of strings: {short(value)}",
                "publish a JSON array of algorithm names (RFC 8414 §2)",
            )
            continue
        if name.endswith("_signing_alg_values_supported") and any(
            v.lower() == "none" for v in values
        ):
            lax = name.startswith(("request_object", "userinfo", "authorization"))
            yield _finding(
                "alg-none-advertised",
                "medium" if lax else "high",
                location,
                f"{name} lists none: a client or verifier that takes the list at its word "
                "accepts unsigned tokens",
                "remove none (RFC 8725 §3.1; RFC 8414 §2 and OpenID Connect Discovery 1.0 §3 "
                "forbid it for endpoint authentication and ID tokens)",
            )
        if name.endswith("_encryption_alg_values_supported") and "RSA1_5" in values:
            yield _finding(
                "alg-rsa1_5-advertised",
                "high",
                location,
                f"{name} lists RSA1_5, open to padding-oracle attacks (Bleichenbacher)",
                "remove RSA1_5; offer RSA-OAEP-256 or ECDH-ES+A256KW (RFC 8725 §3.2)",
            )
        hmac = sorted(v for v in values if v.startswith("HS"))
        if name == "id_token_signing_alg_values_supported" and hmac:
            yield _finding(
                "alg-hmac-id-token",
                "low",
                location,
                f"ID tokens may be signed with {', '.join(hmac)}, keyed by the client secret: "
                "whoever holds the secret can mint ID tokens, and a weak secret can be guessed "
                "offline",
                "sign ID tokens with an asymmetric algorithm (RS256, ES256; OpenID Connect "
                "Core §10.1)",
            )


def _uses_authorization_code(metadata: Mapping[str, Any]) -> bool:
    types = _strings(metadata.get("response_types_supported")) or []
    grants = _strings(metadata.get("grant_types_supported")) or []
    return any("code" in t.split() for t in types) or "authorization_code" in grants


def _pkce_findings(metadata: Mapping[str, Any], where: str) -> list[Finding]:
    if not _uses_authorization_code(metadata):
        return []
    location = f"{where}.code_challenge_methods_supported"
    methods = _strings(metadata.get("code_challenge_methods_supported"))
    if methods is None:
        return [
            _finding(
                "pkce-missing",
                "medium",
                location,
                "no code_challenge_methods_supported: the issuer does not say it supports "
                "PKCE (RFC 8414 §2: omitted means not supported), so clients may not use it "
                "and an intercepted authorization code can be redeemed",
                "support PKCE with S256 and advertise it (RFC 9700 §2.1.1, OAuth 2.1)",
            )
        ]
    found = []
    if "S256" not in methods:
        found.append(
            _finding(
                "pkce-s256-missing",
                "high",
                location,
                f"PKCE without S256 ({short(', '.join(methods))})",
                "support and advertise S256 (RFC 7636 §4.2, RFC 9700 §2.1.1)",
            )
        )
    if "plain" in methods:
        found.append(
            _finding(
                "pkce-plain",
                "medium",
                location,
                "PKCE plain is offered: its challenge is the verifier itself, so whoever reads "
                "the authorization request can redeem the code",
                "offer S256 only (RFC 7636 §7.2, RFC 9700 §2.1.1)",
            )
        )
    return found


def _grant_findings(metadata: Mapping[str, Any], where: str) -> Iterator[Finding]:
    grants = _strings(metadata.get("grant_types_supported")) or []
    if "implicit" in grants:
        yield _finding(
            "grant-implicit",
            "medium",
            f"{where}.grant_types_supported",
            "the implicit grant is offered: access tokens travel in URL fragments, where "
            "browsers, logs and referrers leak them, and are not bound to the client",
            "use the authorization code grant with PKCE (RFC 9700 §2.1.2; OAuth 2.1 drops "
            "implicit)",
        )
    if "password" in grants:
        yield _finding(
            "grant-password",
            "high",
            f"{where}.grant_types_supported",
            "the password grant is offered: clients see the user's password, and neither "
            "multi-factor login nor consent can happen",
            "turn it off; use the authorization code grant with PKCE (RFC 9700 §2.4: MUST "
            "NOT be used; OAuth 2.1 drops it)",
        )
    types = _strings(metadata.get("response_types_supported")) or []
    front = [t for t in types if "token" in t.split()]
    if front:
        yield _finding(
            "front-channel-token",
            "medium",
            f"{where}.response_types_supported",
            f"response types that return an access token from the authorization endpoint: "
            f"{short(', '.join(front))}; it travels in the URL fragment",
            "offer code (and code id_token if needed) only (RFC 9700 §2.1.2)",
        )


def audit_metadata(
    metadata: Mapping[str, Any], issuer: str, *, openid: bool, where: str = "metadata"
) -> list[Finding]:
    """Findings about authorization server metadata that claims to belong to ``issuer``;
    ``openid`` applies OpenID Connect Discovery 1.0 §3's required members, else RFC 8414 §2's.
    """
    found = _issuer_findings(metadata, issuer, where)
    missing = _required(metadata, openid)
    if missing:
        spec = "OpenID Connect Discovery 1.0 §3" if openid else "RFC 8414 §2"
        found.append(
            _finding(
                "metadata-missing",
                "medium",
                where,
                f"required members missing: {', '.join(missing)}",
                f"publish them ({spec}); clients cannot configure themselves without them",
            )
        )
    found += _url_findings(metadata, issuer, where)
    found += _algorithm_findings(metadata, where)
    found += _pkce_findings(metadata, where)
    found += _grant_findings(metadata, where)
    return found


# -- the JWK Set -----------------------------------------------------------------------------


def _loads(member: Mapping[str, Any], *, allow_weak: bool = False) -> bool:
    try:
        Key.from_jwk(member, allow_weak=allow_weak)
    except JWTError:
        return False
    return True


def _without(member: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in member.items() if name not in names}


def _skip_cause(member: Mapping[str, Any], reason: str, where: str) -> Finding | None:
    """What made jwtkit skip ``member``, when one member explains it: found by loading the
    member without it (the key's own checks stay the one source of the rule)."""
    if any(name in member for name in _CERTIFICATE_MEMBERS) and _loads(
        _without(member, *_CERTIFICATE_MEMBERS)
    ):
        return _finding(
            "jwk-x5c-mismatch",
            "high",
            where,
            f"the certificate members do not match the key: {reason}",
            "publish the certificate of this very key, or no certificate (RFC 7517 §4.6-4.9)",
        )
    if "key_ops" in member and _loads(_without(member, "key_ops")):
        return _finding(
            "jwk-use-mismatch",
            "medium",
            where,
            f"use and key_ops disagree: {reason}",
            "publish one of use and key_ops, consistent with the key (RFC 7517 §4.3)",
        )
    if "alg" in member and _loads(_without(member, "alg")):
        return _finding(
            "jwk-alg-mismatch",
            "medium",
            where,
            f"the key does not fit its alg: {reason}; verifiers that trust alg may use the key "
            "with the wrong algorithm",
            "publish the alg this key is used with (RFC 7517 §4.4, RFC 8725 §3.1)",
        )
    if member.get("kty") == "RSA" and _loads(member, allow_weak=True):
        return _finding(
            "jwk-weak-rsa",
            "high",
            where,
            f"{reason}: such keys can be factored, and every token they signed forged",
            "replace it with a key of 2048 bits or more (RFC 7518 §3.3)",
        )
    return None


def _secret_findings(member: Mapping[str, Any], where: str) -> list[Finding]:
    if member.get("kty") == "oct":
        k = member.get("k")
        size = f" of {len(k) * 6 // 8 * 8} bits" if isinstance(k, str) else ""
        return [
            _finding(
                "jwk-secret-published",
                "critical",
                where,
                f"a symmetric (oct) key{size} is published: whoever reads the set can sign "
                "(or decrypt) with it",
                "remove it from the set and rotate the secret now; publish public keys only "
                "(RFC 7517 §5, RFC 8725 §3.1)",
            )
        ]
    present = [name for name in PRIVATE_MEMBERS if name in member]
    if present:
        return [
            _finding(
                "jwk-private-key-published",
                "critical",
                where,
                f"private key members published ({', '.join(present)}): whoever reads the set "
                "can sign with this key",
                "remove them, and replace the key now: it is compromised (RFC 7517 §5)",
            )
        ]
    return []


def _family(alg: str) -> str:
    return "sig" if alg in SIGNATURE_ALGORITHMS else "enc"


def _loaded_key_findings(key: Key, where: str) -> list[Finding]:
    found = []
    if isinstance(key, RSAKey):
        exponent = key.crypto_public_key.public_numbers().e
        if exponent < _MIN_RSA_EXPONENT:
            found.append(
                _finding(
                    "jwk-weak-exponent",
                    "medium",
                    where,
                    f"the RSA public exponent is {exponent}: small exponents have broken "
                    "flawed padding checks (Bleichenbacher's signature forgery)",
                    "use a key with the exponent 65537 (NIST SP 800-56B, SP 800-89)",
                )
            )
    if key.alg is not None and key.use is not None and _family(key.alg) != key.use:
        found.append(
            _finding(
                "jwk-use-mismatch",
                "medium",
                where,
                f"use {key.use!r} contradicts alg {key.alg!r}, a "
                f"{'signature' if _family(key.alg) == 'sig' else 'key-management'} algorithm",
                "publish a use that fits the key's alg (RFC 7517 §4.2, §4.4)",
            )
        )
    return found


def _signing_label(key: Key) -> str | None:
    """What a published key signs with: its ``alg``, else its kind; ``None`` for keys that
    do not sign (``use: enc``, an encryption ``alg``, X25519/X448)."""
    if key.use == "enc" or (key.alg is not None and _family(key.alg) != "sig"):
        return None
    if key.alg is not None:
        return key.alg
    signs = [name for name in SIGNATURE_ALGORITHMS if key.supports(name)]
    if not signs:
        return None
    crv = getattr(key, "crv", None)
    return f"{key.kty} {crv}" if crv else key.kty


def signing_keys(keys: KeySet) -> dict[str, int]:
    """How many published public keys sign with each algorithm (or kind, for keys without
    ``alg``)."""
    labels = (_signing_label(key) for key in keys if key.kty != "oct" and not key.is_private)
    return dict(sorted(Counter(label for label in labels if label is not None).items()))


def _set_findings(members: list[Any], per_alg: Mapping[str, int]) -> Iterator[Finding]:
    kids = Counter(
        (short(m.get("kty")), m["kid"])
        for m in members
        if isinstance(m, dict) and isinstance(m.get("kid"), str)
    )
    for (kty, kid), count in kids.items():
        if count > 1:
            yield _finding(
                "jwks-duplicate-kid",
                "medium",
                "jwks.keys",
                f"{count} {kty} keys share the kid {short(kid)}: a verifier cannot tell "
                "which one signed, and may pick the wrong one",
                "give every key its own kid, e.g. its RFC 7638 thumbprint (RFC 7517 §4.5)",
            )
    unnamed = sum(1 for m in members if isinstance(m, dict) and "kid" not in m)
    if unnamed and len(members) > 1:
        yield _finding(
            "jwks-kid-missing",
            "low",
            "jwks.keys",
            f"{unnamed} of {len(members)} keys have no kid: verifiers must try several keys "
            "per token, and some refuse to",
            "give every key a kid and put it in the tokens' headers (RFC 7517 §4.5)",
        )
    if not per_alg:
        yield _finding(
            "jwks-no-signing-key",
            "high",
            "jwks.keys",
            "the set holds no usable public signing key: no token from this issuer can be verified",
            "publish the public keys the issuer signs with (RFC 7517 §5)",
        )
    single = [label for label, count in per_alg.items() if count == 1]
    if single:
        yield _finding(
            "jwks-single-key",
            "info",
            "jwks.keys",
            f"one key for {', '.join(single)}: fine between rotations, but a rotation must "
            "publish the next key before signing with it (one fetch cannot tell whether it "
            "will)",
            "publish the next key at least one cache lifetime before it signs, and keep the "
            "old one until its last tokens expire",
        )


def audit_jwks(
    jwks: Mapping[str, Any], metadata: Mapping[str, Any] | None = None
) -> tuple[list[Finding], dict[str, int]]:
    """Findings about a JWK Set document (with the ``metadata`` that names it, also the ID
    token algorithms advertised without a key), and the signing keys it publishes per
    algorithm (:func:`signing_keys`)."""
    try:
        keys = KeySet.from_jwks(jwks, allow_mixed=True)
    except JWTError as exc:
        return [
            _finding(
                "jwks-invalid",
                "high",
                "jwks",
                f"not a JWK Set: {exc.message}",
                "publish a JSON object with a keys array (RFC 7517 §5)",
            )
        ], {}
    members: list[Any] = jwks["keys"]
    skipped = {entry.index: entry.reason for entry in keys.skipped}
    found: list[Finding] = []
    loaded = iter(keys.keys)
    for index, member in enumerate(members):
        where = f"jwks.keys[{index}]"
        if isinstance(member, dict) and isinstance(member.get("kid"), str):
            where += f" (kid {short(member['kid'])})"
        secrets = _secret_findings(member, where) if isinstance(member, dict) else []
        found += secrets
        if index in skipped:
            if secrets:
                continue
            cause = _skip_cause(member, skipped[index], where) if isinstance(member, dict) else None
            found.append(
                cause
                or _finding(
                    "jwk-skipped",
                    "medium",
                    where,
                    f"jwtkit skips this key: {skipped[index]}",
                    "fix or remove it; verifiers that skip it cannot verify its tokens",
                )
            )
            continue
        found += _loaded_key_findings(next(loaded), where)
    per_alg = signing_keys(keys)
    found += _set_findings(members, per_alg)
    if metadata is not None and per_alg:  # else jwks-no-signing-key says it all
        found += _advertised_without_key(metadata, keys)
    return found, per_alg


def _advertised_without_key(metadata: Mapping[str, Any], keys: KeySet) -> Iterator[Finding]:
    advertised = _strings(metadata.get("id_token_signing_alg_values_supported")) or []
    public = [key for key in keys if key.kty != "oct" and not key.is_private]
    for alg in advertised:
        if alg.startswith("HS") or alg not in SIGNATURE_ALGORITHMS:
            continue
        if not any(key.supports(alg) and key.alg in {None, alg} for key in public):
            yield _finding(
                "alg-without-key",
                "medium",
                "metadata.id_token_signing_alg_values_supported",
                f"{alg} is advertised for ID tokens but the JWK Set has no key for it: "
                "clients that choose it cannot verify their ID tokens",
                "publish a key for every advertised algorithm, or stop advertising it",
            )


# -- HTTP ------------------------------------------------------------------------------------


def _cache_findings(document: Document) -> list[Finding]:
    seconds = document.max_age
    if seconds is None:
        return [
            _finding(
                "jwks-cache-missing",
                "low",
                "jwks_uri",
                "the JWK Set comes without Cache-Control max-age: each verifier guesses how "
                "long to keep it",
                "send Cache-Control: public, max-age=N with N between a few minutes and a day "
                "(RFC 9111 §5.2.2.1)",
            )
        ]
    if seconds < JWKS_MIN_MAX_AGE:
        return [
            _finding(
                "jwks-cache-short",
                "low",
                "jwks_uri",
                f"the JWK Set may be cached for {human_duration(seconds)} only "
                f"(Cache-Control: {short(document.headers.get('cache-control'))}): verifiers "
                "refetch it all the time, and an outage of this URL stops them at once",
                "send a max-age of a few minutes or more",
            )
        ]
    if seconds > JWKS_MAX_MAX_AGE:
        return [
            _finding(
                "jwks-cache-long",
                "medium",
                "jwks_uri",
                f"the JWK Set may be cached for {human_duration(seconds)}: a key removed "
                "after a compromise stays trusted that long",
                f"keep max-age at or below {human_duration(JWKS_MAX_MAX_AGE)}",
            )
        ]
    return []


def audit_response(document: Document, kind: str) -> list[Finding]:
    """Findings about how a document was served: redirects, its content type and, for
    ``kind`` ``"jwks"``, its caching. ``kind`` is ``"metadata"`` or ``"jwks"``."""
    where = "jwks_uri" if kind == "jwks" else "metadata"
    found = []
    if document.redirects:
        found.append(
            _finding(
                "redirect",
                "low",
                where,
                f"{short(document.redirects[0])} redirects to {short(document.url)}: clients "
                "that do not follow redirects fail, and every hop is one more server to trust",
                "serve the document at the URL itself",
            )
        )
    expected = _JWKS_TYPES if kind == "jwks" else _METADATA_TYPES
    content_type = document.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media not in expected:
        spec = "RFC 7517 §8.5" if kind == "jwks" else "RFC 8414 §3.2"
        found.append(
            _finding(
                "content-type",
                "low",
                where,
                (
                    f"served as {short(content_type)}"
                    if content_type
                    else "served without a Content-Type"
                )
                + f", not {' or '.join(expected)}",
                f"send Content-Type: {expected[0]} ({spec})",
            )
        )
    if kind == "jwks":
        found += _cache_findings(document)
    return found


# -- the whole issuer ------------------------------------------------------------------------


@dataclass
class IssuerAudit:
    """What one audit of an issuer found and fetched (the ``--json`` fields)."""

    issuer: str
    findings: list[Finding] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    jwks_uri: str | None = None
    signing_keys: dict[str, int] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "metadata": self.metadata,
            "jwks_uri": self.jwks_uri,
            "signing_keys": self.signing_keys,
        }


def _locations_findings(audit: IssuerAudit, documents: IssuerDocuments) -> dict[str, Any]:
    """The metadata to audit (the OpenID Connect document, else the RFC 8414 one) after the
    findings about the two locations."""
    openid, oauth = documents.metadata()
    for location in (openid, oauth):
        audit.metadata.append(
            {"url": location.url, "found": location.document is not None, "error": location.problem}
        )
    primary, other = (openid, oauth) if openid.document is not None else (oauth, openid)
    # metadata() raises when neither location answered with a document
    document = cast("Document", primary.document)
    audit.findings += audit_metadata(document.data, audit.issuer, openid=primary is openid)
    audit.findings += audit_response(document, "metadata")
    if other.document is None:
        audit.findings.append(
            _finding(
                "metadata-location-missing",
                "info",
                other.url,
                f"no metadata here ({other.problem}); clients that look here first fail over "
                "to the other location, or fail",
                "serve the same document at both well-known locations when clients of both "
                "kinds exist (RFC 8414 §5)",
            )
        )
    elif other.document.data != document.data:
        audit.findings.append(
            _finding(
                "metadata-differs",
                "low",
                other.url,
                f"the metadata here differs from {primary.url}: clients see a different "
                "issuer depending on where they look",
                "serve one document at both well-known locations (RFC 8414 §5)",
            )
        )
        audit.findings += _issuer_findings(other.document.data, audit.issuer, other.url)
    return document.data


def _jwks(audit: IssuerAudit, documents: IssuerDocuments, metadata: Mapping[str, Any]) -> None:
    jwks_uri = metadata.get("jwks_uri")
    if jwks_uri is None or not documents.jwks_url_allowed(jwks_uri):
        return  # a finding already: metadata-missing, metadata-invalid or http-endpoint
    audit.jwks_uri = jwks_uri
    document = documents.fetch(jwks_uri, "JWKS")
    found, audit.signing_keys = audit_jwks(document.data, metadata)
    audit.findings += found
    audit.findings += audit_response(document, "jwks")


def run_issuer_audit(documents: IssuerDocuments) -> IssuerAudit:
    """Fetch and audit the metadata and the JWK Set of ``documents.issuer``. Raises a
    :class:`~jwtkit.remote.JWKSError` when the metadata cannot be fetched at either location
    or the JWK Set cannot be fetched."""
    audit = IssuerAudit(documents.issuer)
    if urlsplit(documents.issuer).scheme == "http":
        audit.findings.append(
            _finding(
                "loopback-http",
                "info",
                "issuer",
                "the issuer is served over plain http on a loopback host: for development only",
                "serve it over https everywhere else (jwtkit refuses http to other hosts)",
            )
        )
    metadata = _locations_findings(audit, documents)
    _jwks(audit, documents, metadata)
    return audit
