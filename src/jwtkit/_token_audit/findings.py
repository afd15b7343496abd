"""The findings of an audit, whatever was audited (a token, an issuer): the :class:`Finding`
model, the severities, their order and their counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["RANK", "SEVERITIES", "Finding", "count_findings", "sort_findings"]

#: Severities, most severe first. ``critical``: a secret is exposed now (rotate it).
SEVERITIES = ("critical", "high", "medium", "low", "info")
RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    """One problem: a stable ``id``, a severity, where it is, what it is and how to fix it."""

    id: str
    severity: str
    location: str
    message: str
    fix: str


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; findings of one severity keep their order (the order of the checks)."""
    return sorted(findings, key=lambda f: RANK[f.severity])


def count_findings(findings: Iterable[Finding]) -> dict[str, int]:
    """``{"critical": n, "high": n, "medium": n, "low": n, "info": n}``, every severity."""
    severities = [f.severity for f in findings]
    return {s: severities.count(s) for s in SEVERITIES}
