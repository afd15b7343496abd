"""The OAuth 2.0 and Bearer grammar, written once: the token service and the integrations use it.

Framework-free and standard-library only, so that both ``jwtkit.server`` and
``jwtkit.integrations`` (and their tests) decide every request the same way.

* Scopes: ``scope-token = 1*( %x21 / %x23-5B / %x5D-7E )``, tokens separated by one space
  (RFC 6749 §3.3): :func:`is_scope_token`, :func:`is_scope`.
* Client identifiers: ``client-id = *VSCHAR`` (RFC 6749 Appendix A.1); this project also
  refuses the empty id, spaces and ids over 128 characters: :func:`is_client_id`.
* Bearer credentials: exactly one ``Authorization`` field (several are ``invalid_request``,
  RFC 6750 §3.1 "uses more than one method"), then ``credentials = "Bearer" 1*SP b64token``
  (RFC 6750 §2.1; the scheme without case, RFC 9110 §11.1; the field value's surrounding
  spaces and tabs are not part of it, RFC 9110 §5.5): :func:`single_authorization`,
  :func:`parse_bearer`, which raise :class:`MalformedAuthorization` for a malformed request;
  :func:`is_b64token` tells whether a configured secret can be sent that way.
* DPoP credentials (RFC 9449 §7.1): ``credentials = "DPoP" 1*SP token68``, where ``token68``
  is the very alphabet of ``b64token``, so one parser reads both schemes:
  :func:`parse_credentials` gives the scheme (``"bearer"`` or ``"dpop"``) and the token;
  :func:`dpop_challenge` is the ``WWW-Authenticate: DPoP`` challenge with its ``algs``;
  :func:`is_dpop_nonce` tells a nonce (RFC 9449 §8.1).
* Error answers: ``error`` and ``error_description`` hold only ``%x20-21 / %x23-5B / %x5D-7E``
  (RFC 6749 §5.2, RFC 6750 §3): :func:`sanitize_description` makes any text such a value, and
  :func:`error_body` and :func:`bearer_challenge` (the RFC 6750 §3 ``WWW-Authenticate`` value)
  apply it, so that the JSON body and the challenge always carry the same description.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "BEARER",
    "DPOP",
    "MALFORMED_AUTHORIZATION",
    "MALFORMED_DPOP_AUTHORIZATION",
    "MAX_DESCRIPTION",
    "MISSING_TOKEN",
    "SEVERAL_AUTHORIZATIONS",
    "MalformedAuthorization",
    "bearer_challenge",
    "dpop_challenge",
    "error_body",
    "is_b64token",
    "is_client_id",
    "is_dpop_nonce",
    "is_quotable",
    "is_scope",
    "is_scope_token",
    "parse_bearer",
    "parse_credentials",
    "sanitize_description",
    "single_authorization",
]

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# RFC 6749 Appendix A.1: client-id = *VSCHAR (%x20-7E); no space, 1 to 128 characters here.
_CLIENT_ID = re.compile(r"[\x21-\x7e]{1,128}")
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# RFC 6749 §5.2, RFC 6750 §3: printable ASCII without '"' and '\' (a quoted-string's content
# that never needs escaping, so no header injection either).
_QUOTABLE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
_NOT_QUOTABLE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
#: Readable ASCII for the few non-ASCII characters that messages use.
_ASCII_SPELLING = str.maketrans(
    {
        "\u00a7": "section ",
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": "'",
        "\u201d": "'",
        '"': "'",
        "\\": "/",
    }
)
#: The longest ``error_description`` sent (longer text is cut, ending in "...").
MAX_DESCRIPTION = 300

#: 401 without an error code: the request carries no Bearer credentials (RFC 6750 §3.1).
MISSING_TOKEN = "an access token is required: Authorization: Bearer <token>"
#: 400 ``invalid_request``: the Bearer credentials are malformed (RFC 6750 §3.1).
MALFORMED_AUTHORIZATION = "malformed Authorization header: expected Bearer <token>"
#: 400 ``invalid_request``: the DPoP credentials are malformed (RFC 9449 §7.1).
MALFORMED_DPOP_AUTHORIZATION = "malformed Authorization header: expected DPoP <token>"
#: The schemes :func:`parse_credentials` reads, as it names them (lower case).
BEARER = "bearer"
DPOP = "dpop"
_MALFORMED = {BEARER: MALFORMED_AUTHORIZATION, DPOP: MALFORMED_DPOP_AUTHORIZATION}
#: 400 ``invalid_request``: more than one ``Authorization`` field (RFC 6750 §3.1).
SEVERAL_AUTHORIZATIONS = "more than one Authorization header"


def is_scope_token(value: object) -> bool:
    """Whether ``value`` is one RFC 6749 §3.3 scope token."""
    return isinstance(value, str) and _SCOPE_TOKEN.fullmatch(value) is not None


def is_scope(text: str) -> bool:
    """Whether ``text`` is scope tokens separated by single spaces (RFC 6749 §3.3)."""
    return all(is_scope_token(token) for token in text.split(" "))


def is_dpop_nonce(value: object) -> bool:
    """Whether ``value`` is a DPoP nonce: ``1*NQCHAR`` (RFC 9449 §8.1), which are the very
    characters of a scope token."""
    return is_scope_token(value)


def is_client_id(value: str) -> bool:
    """Whether ``value`` is a client identifier: 1 to 128 printable ASCII characters without
    spaces (RFC 6749 Appendix A.1 VSCHAR)."""
    return _CLIENT_ID.fullmatch(value) is not None


def is_b64token(value: str) -> bool:
    """Whether ``value`` can be sent as a Bearer token: one RFC 6750 §2.1 ``b64token``."""
    return _B64TOKEN.fullmatch(value) is not None


class MalformedAuthorization(ValueError):
    """The request's ``Authorization`` is malformed: answered 400 ``invalid_request``
    (RFC 6750 §3.1). ``description`` is a fixed phrase, safe to show."""

    def __init__(self, description: str = MALFORMED_AUTHORIZATION) -> None:
        super().__init__(description)
        self.description = description


def single_authorization(values: Sequence[str]) -> str | None:
    """The one ``Authorization`` field value of a request (``None`` without one).

    Several fields are a malformed request (RFC 6750 §3.1: "uses more than one method"):
    :class:`MalformedAuthorization`, whatever they hold.
    """
    if not values:
        return None
    if len(values) > 1:
        raise MalformedAuthorization(SEVERAL_AUTHORIZATIONS)
    return values[0]


def parse_credentials(header: str | None) -> tuple[str, str] | None:
    """The scheme (:data:`BEARER` or :data:`DPOP`) and token of an ``Authorization`` value;
    ``None`` when it holds neither scheme (or there is no header).

    RFC 6750 §2.1: ``"Bearer" 1*SP b64token``; RFC 9449 §7.1: ``"DPoP" 1*SP token68``, the
    same characters. The scheme is compared without case (RFC 9110 §11.1). Only spaces and
    tabs around the value are ignored (RFC 9110 §5.5); anything else under either scheme (an
    empty value, several tokens, a tab or any character outside the alphabet) is
    :class:`MalformedAuthorization`.
    """
    if header is None:
        return None
    scheme, _, rest = header.strip(" \t").partition(" ")
    scheme = scheme.lower()
    if scheme not in _MALFORMED:
        return None
    token = rest.lstrip(" ")
    if _B64TOKEN.fullmatch(token) is None:
        raise MalformedAuthorization(_MALFORMED[scheme])
    return scheme, token


def parse_bearer(header: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``; ``None`` when there are no Bearer
    credentials (no header, or another scheme). Malformed Bearer credentials are
    :class:`MalformedAuthorization` (:func:`parse_credentials`)."""
    if header is None or header.strip(" \t").partition(" ")[0].lower() != BEARER:
        return None
    credentials = parse_credentials(header)
    assert credentials is not None  # noqa: S101 - the scheme is Bearer
    return credentials[1]


def is_quotable(text: str) -> bool:
    """Whether ``text`` can be sent as-is inside a quoted-string (printable ASCII, no ``"``
    or ``\\``): realms, descriptions."""
    return _QUOTABLE.fullmatch(text) is not None


def sanitize_description(text: str) -> str:
    """``text`` as a valid ``error_description`` (RFC 6749 §5.2, RFC 6750 §3).

    ``"`` becomes ``'``, ``\\`` becomes ``/``, "§" is spelt "section", typographic dashes and
    quotes become ASCII ones (double quotes ``'``); any other character outside
    ``%x20-21 / %x23-5B / %x5D-7E`` becomes ``?``; text over :data:`MAX_DESCRIPTION`
    characters is cut and ends in ``...``.
    """
    if not is_quotable(text):
        text = _NOT_QUOTABLE.sub("?", text.translate(_ASCII_SPELLING))
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 3] + "..."
    return text


def error_body(error: str, description: str) -> dict[str, str]:
    """The JSON error body ``{"error": ..., "error_description": ...}`` (RFC 6749 §5.2)."""
    return {
        "error": sanitize_description(error),
        "error_description": sanitize_description(description),
    }


def bearer_challenge(
    realm: str,
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
    resource_metadata: str | None = None,
) -> str:
    """The ``WWW-Authenticate`` value of a protected resource (RFC 6750 §3).

    Without ``error`` this is the bare challenge for a request that carried no credentials
    (RFC 6750 §3.1: no error code then). ``resource_metadata`` is the URL of the resource's
    RFC 9728 metadata document (RFC 9728 §5.1), sent last and never altered: a URL that
    cannot be sent as-is (:func:`is_quotable`) is a :class:`ValueError`. Every other value is
    sanitized like a description.
    """
    return _challenge("Bearer", realm, error, description, scope, resource_metadata)


def dpop_challenge(
    algs: Sequence[str],
    realm: str | None = None,
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
    resource_metadata: str | None = None,
) -> str:
    """The ``WWW-Authenticate: DPoP`` challenge of a protected resource (RFC 9449 §7.1).

    ``algs`` names the signature algorithms accepted in proofs, space-separated; the other
    parameters are those of :func:`bearer_challenge` (``error`` is ``invalid_token``,
    ``invalid_dpop_proof``, ``use_dpop_nonce``, ``insufficient_scope``...).
    """
    challenge = _challenge("DPoP", realm, error, description, scope, resource_metadata)
    separator = ", " if " " in challenge else " "
    return f'{challenge}{separator}algs="{sanitize_description(" ".join(algs))}"'


def _challenge(
    scheme: str,
    realm: str | None,
    error: str | None,
    description: str | None,
    scope: str | None,
    resource_metadata: str | None,
) -> str:
    parts = [] if realm is None else [f'realm="{sanitize_description(realm)}"']
    if error is not None:
        parts.append(f'error="{sanitize_description(error)}"')
    if description is not None:
        parts.append(f'error_description="{sanitize_description(description)}"')
    if scope is not None:
        parts.append(f'scope="{sanitize_description(scope)}"')
    if resource_metadata is not None:
        if not is_quotable(resource_metadata):
            raise ValueError("resource_metadata: expected a URL of printable ASCII")
        parts.append(f'resource_metadata="{resource_metadata}"')
    return f"{scheme} {', '.join(parts)}" if parts else scheme
