"""Tests of ``jwtkit.jws``: compact JWS, the JSON serializations, RFC 7797, and their vectors."""
