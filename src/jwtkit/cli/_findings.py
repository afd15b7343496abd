"""The findings of ``jwtkit audit``, whatever was audited (a token, an issuer): the
:class:`Finding` model, the severities, and the one report (sorted, human or ``--json``,
``--fail-on``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import click

from ._errors import CommandFailed
from ._output import Style, emit_json

__all__ = ["RANK", "SEVERITIES", "Finding", "report"]

#: Severities, most severe first. ``critical``: a secret is exposed now (rotate it).
SEVERITIES = ("critical", "high", "medium", "low", "info")
RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
_WIDTH = max(len(name) for name in SEVERITIES)


@dataclass(frozen=True)
class Finding:
    """One problem: a stable ``id``, a severity, where it is, what it is and how to fix it."""

    id: str
    severity: str
    location: str
    message: str
    fix: str


def _show(findings: list[Finding], head: str, badge: str | None) -> None:
    style = Style()
    lines = [(style(badge, "warn") + "  " if badge else "") + head]
    for finding in findings:
        lines += [
            "",
            f"  {style(finding.severity.upper().ljust(_WIDTH), finding.severity)}  "
            f"{style(finding.id, 'name')}  {finding.location}",
            f"            {finding.message}",
            f"            {style('fix:', 'title')} {finding.fix}",
        ]
    click.echo("\n".join(lines))


def report(
    findings: list[Finding],
    *,
    label: str,
    fail_on: str | None,
    as_json: bool,
    fields: Mapping[str, Any],
    badge: str | None = None,
) -> None:
    """Print ``findings``, most severe first: ``audit of <label>: ...`` and one block per
    finding, or with ``as_json`` one object (``fields``, then ``findings``, ``counts``,
    ``fail_on``, ``failed``). Raise :class:`CommandFailed` (exit 1) when a finding is at or
    above ``fail_on``."""
    findings = sorted(findings, key=lambda f: RANK[f.severity])
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    failed = fail_on is not None and any(RANK[f.severity] <= RANK[fail_on] for f in findings)
    if as_json:
        emit_json(
            {
                **fields,
                "findings": [asdict(f) for f in findings],
                "counts": counts,
                "fail_on": fail_on,
                "failed": failed,
            }
        )
    else:
        summary = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
        head = f"audit of {label}: " + (
            f"{len(findings)} finding{'' if len(findings) == 1 else 's'} ({summary})"
            if findings
            else "no findings"
        )
        _show(findings, head, badge)
    if failed:
        worst = findings[0].severity
        raise CommandFailed(f"audit: findings at or above {fail_on} (worst: {worst})")
