"""OpenID Connect for relying parties: ID tokens checked as OpenID Connect Core 1.0 §3.1.3.7
asks, and the token hashes ``at_hash`` / ``c_hash`` (§3.1.3.6, §3.3.2.11).

::

    from jwtkit.oidc import IDTokenVerifier

    verifier = IDTokenVerifier(provider_keys, issuer="https://id.example", client_id="web")
    claims = verifier.decode(id_token, nonce=sent_nonce, access_token=access_token)

With discovery and a remote key set: ``jwtkit.remote.OIDCClient.from_issuer(issuer,
client_id)`` (the ``remote`` extra). See ``docs/oidc.md``.
"""

from __future__ import annotations

from ._id_token import DEFAULT_ID_TOKEN_ALGORITHMS, ID_TOKEN_CLAIMS, IDTokenVerifier
from ._token_hash import token_hash

__all__ = ["DEFAULT_ID_TOKEN_ALGORITHMS", "ID_TOKEN_CLAIMS", "IDTokenVerifier", "token_hash"]
