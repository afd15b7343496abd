"""Tests of the ``jwtkit`` token commands (``jwtkit.cli``)."""
