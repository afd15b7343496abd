"""Registered JOSE header parameters and JWT claims, each explained in a word or two: the
``word`` of each entry of the page's ``glossary.json`` (``jwtkit._page``), the one glossary the
token page and the commands share.

Sources: RFC 7515 §4.1 and RFC 7516 §4.1 (header), RFC 7519 §4.1 (registered claims), and the
IANA "JSON Web Token Claims" registry entries from OpenID Connect Core 1.0 §2 and §5.1,
RFC 8693 §4 (``act``, ``may_act``, ``scope``, ``client_id``), RFC 7800 §3 (``cnf``) and
RFC 9068 §2.2 (access tokens).
"""

from __future__ import annotations

from types import MappingProxyType

from .._page import glossary

__all__ = ["CLAIMS", "HEADER", "TIME_CLAIMS"]

_GLOSSARY = glossary()

#: Header parameters (RFC 7515 §4.1, RFC 7516 §4.1, RFC 7518 §4, RFC 7797 §3).
HEADER: MappingProxyType[str, str] = MappingProxyType(
    {name: str(entry["word"]) for name, entry in _GLOSSARY["header"].items()}
)

#: Claims (RFC 7519 §4.1 and the IANA registry).
CLAIMS: MappingProxyType[str, str] = MappingProxyType(
    {name: str(entry["word"]) for name, entry in _GLOSSARY["claims"].items()}
)

#: Claims whose value is a NumericDate (RFC 7519 §2), shown as times.
TIME_CLAIMS: tuple[str, ...] = tuple(_GLOSSARY["time_claims"])
