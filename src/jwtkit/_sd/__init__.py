"""SD-JWT, Selective Disclosure for JWTs (RFC 9901), in small private modules.

``disclosures.py`` the Disclosure format, digests and salts (§4.2); ``paths.py`` claim paths
(JSON Pointers, RFC 6901); ``issuer.py`` issuance (§4.1, §4.2); ``processing.py`` the
processing of Disclosures and digests that Holders and Verifiers share (§7.1);
``holder.py`` parsing, choosing Disclosures and Key Binding JWTs (§4.3, §7.2);
``verifier.py`` the Verifier (§7.1, §7.3). :mod:`jwtkit.sd_jwt` is the public face.
"""
