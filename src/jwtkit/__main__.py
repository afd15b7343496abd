"""``python -m jwtkit``: the ``jwtkit`` command (:mod:`jwtkit._console`), for when the console
script is not on ``PATH``. Needs the ``cli`` extra, like the script."""

from __future__ import annotations

from ._console import main

if __name__ == "__main__":
    raise SystemExit(main())
