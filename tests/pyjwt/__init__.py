"""Tests of jwtkit.pyjwt, the PyJWT drop-in."""
