"""Tests of jwtkit.integrations: real Starlette, FastAPI and Flask apps behind bearer tokens."""
