"""Tests of ``jwtkit.jwt``: encode/decode and the Verifier, claims, nested JWTs, the JWS/JWT
vectors, and interop with PyJWT, joserfc and jwcrypto. (Not named ``jwt``: with ``tests/`` on
``sys.path`` that package would shadow PyJWT's in the interop tests.)"""
