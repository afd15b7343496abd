"""The one report of ``jwtkit audit``, whatever was audited (a token, an issuer): sorted,
human or ``--json``, ``--fail-on``. The :class:`Finding` model and the severities are
:mod:`jwtkit._token_audit`'s (shared with the service's ``POST /audit``), re-exported here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import click

from .._token_audit import RANK, SEVERITIES, Finding, count_findings, sort_findings
from ._errors import CommandFailed
from ._output import Style, emit_json

__all__ = ["RANK", "SEVERITIES", "Finding", "report"]

_WIDTH = max(len(name) for name in SEVERITIES)


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
    findings = sort_findings(findings)
    counts = count_findings(findings)
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
