"""Named types for the two JSON objects every layer passes around.

* :data:`Header`: a JOSE Header, the member names and values of a JWS or JWE header
  (RFC 7515 §4, RFC 7516 §4), as decoded JSON;
* :data:`Claims`: a JWT Claims Set (RFC 7519 §4), as decoded JSON.

Both are plain ``dict[str, Any]`` at run time: JSON values are whatever the strict parser of
:mod:`jwtkit._codec` returns. The names say which object a signature means; inputs that are
only read take ``Mapping[str, Any]``.
"""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["Claims", "Header"]

#: A JOSE Header as decoded JSON (RFC 7515 §4, RFC 7516 §4).
Header: TypeAlias = dict[str, Any]
#: A JWT Claims Set as decoded JSON (RFC 7519 §4).
Claims: TypeAlias = dict[str, Any]
