"""SD-JWT, Selective Disclosure for JWTs (RFC 9901): issue, present, verify.

An Issuer signs a JWT whose selectively disclosable claims are replaced by salted digests and
hands the Holder the matching Disclosures; the Holder shows a Verifier only the Disclosures it
chooses, optionally with a Key Binding JWT signed by the key named in ``cnf``::

    sd = issue(claims, issuer_key, disclose=["/email", "/address"], holder_key=holder.public_key())
    held = SDJWT.parse(sd, issuer_key.public_key(), algorithms=["ES256"])
    shown = held.present(["/email"], holder_key=holder, audience="https://verifier.example",
                         nonce=nonce)
    verifier = SDJWTVerifier(issuer_key.public_key(), algorithms=["ES256"],
                             require_key_binding=True,
                             key_binding_audience="https://verifier.example")
    verified = verifier.verify(shown, nonce=nonce)     # verified.claims: the disclosed claims

What jwtkit enforces is listed in ``docs/sd-jwt.md``; failures of the SD-JWT's structure are
:class:`~jwtkit.errors.InvalidSDJWT`, of Key Binding :class:`~jwtkit.errors.InvalidKeyBinding`,
and the Issuer's signature and claims fail as :func:`jwtkit.decode` does.
"""

from __future__ import annotations

from ._sd.disclosures import DEFAULT_SD_ALG, SD_ALGORITHMS, Disclosure
from ._sd.holder import KB_JWT_TYP, SDJWT, key_binding_jwt
from ._sd.issuer import DEFAULT_TYP, NOT_DISCLOSABLE, issue
from ._sd.processing import MAX_DISCLOSURES
from ._sd.verifier import DEFAULT_KB_ALGORITHMS, SDJWTVerifier, VerifiedSDJWT

__all__ = [
    "DEFAULT_KB_ALGORITHMS",
    "DEFAULT_SD_ALG",
    "DEFAULT_TYP",
    "KB_JWT_TYP",
    "MAX_DISCLOSURES",
    "NOT_DISCLOSABLE",
    "SDJWT",
    "SD_ALGORITHMS",
    "Disclosure",
    "SDJWTVerifier",
    "VerifiedSDJWT",
    "issue",
    "key_binding_jwt",
]
