"""Tests of ``jwtkit.dpop``: DPoP proofs (RFC 9449) made and checked, the replay cache, nonces."""
