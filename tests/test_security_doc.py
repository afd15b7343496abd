"""docs/security.md carries the security matrix that the code cites by row id (A1, B6, C3, ...).

Every id cited in a comment, docstring or test name under ``src/`` and ``tests/`` must be a row
of the matrix there, and every row must name tests that exist, so that the document and the
code cannot drift apart silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"

_LETTERS = "ABCDEF"
#: A row number: 1 to 19 (so that "b64" in a name such as test_b64_false is no row id).
_N = r"(?:1[0-9]|[1-9])"
#: A row id as the code cites it: a section letter and the row number ("A1", "C7", "A10").
_ID = re.compile(rf"\b([A-F])({_N})\b")
#: A range of rows in one section: "D1-D5", "C2-C4", "A8-A10", "F1-F4".
_RANGE = re.compile(rf"\b([A-F])({_N})-\1({_N})\b")
#: Ids in test names, in lower case where the file keeps to snake case: "test_a10_c6_zip...".
_TEST_NAME = re.compile(rf"\bdef (test_(?:[a-fA-F]{_N}_)+)")
#: A matrix row in the document: "| A1 | attack | safe behaviour | defence | tests |".
_ROW = re.compile(rf"^\| ([A-F]{_N}) \|(.*)\|$", re.MULTILINE)
#: A test reference in a row: `tests/x.py` or `tests/x.py::test_name` or `tests/x.py::test_A1_*`.
_TEST_REF = re.compile(r"`(tests/[\w/]+\.py)(?:::(test_\w*\*?))?`")


def _sources() -> list[Path]:
    return sorted((*ROOT.joinpath("src").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")))


def cited_ids(text: str) -> set[str]:
    """Every matrix id that ``text`` cites, ranges expanded."""
    ids = {letter + number for letter, number in _ID.findall(text)}
    for letter, first, last in _RANGE.findall(text):
        ids.update(f"{letter}{number}" for number in range(int(first), int(last) + 1))
    for name in _TEST_NAME.findall(text):
        ids.update(part.upper() for part in name.split("_")[1:-1])
    return ids


def matrix_rows() -> dict[str, str]:
    """The rows of docs/security.md by id (the text after the id)."""
    rows: dict[str, str] = {}
    for row_id, rest in _ROW.findall(DOC.read_text(encoding="utf-8")):
        assert row_id not in rows, f"docs/security.md: row {row_id} appears twice"
        rows[row_id] = rest
    return rows


def _test_names(path: Path) -> set[str]:
    return set(re.findall(r"^(?:async )?def (test_\w+)", path.read_text("utf-8"), re.MULTILINE))


def test_cited_ids_helper_reads_ids_ranges_and_test_names() -> None:
    text = (
        "security matrix B6, D1-D5 and A8-A10\n"
        "def test_a10_c6_zip_in_an_unprotected_header_is_rejected() -> None:\n"
        "def test_F4_repr() -> None:\n"
        "# noqa: E501, B905 - not ids; nor are xA1 or test_b64_false\n"
        "def test_b64_false_keeps_crit() -> None:\n"
    )
    assert cited_ids(text) == {
        "B6", "D1", "D2", "D3", "D4", "D5", "A8", "A9", "A10", "C6", "F4",
    }  # fmt: skip


def test_the_matrix_has_sections_a_to_f_with_consecutive_rows() -> None:
    rows = matrix_rows()
    for letter in _LETTERS:
        numbers = sorted(_row_order(row_id)[1] for row_id in rows if row_id[0] == letter)
        assert numbers, f"docs/security.md has no rows for section {letter}"
        assert numbers == list(range(1, len(numbers) + 1)), f"section {letter}: {numbers}"


def test_every_id_cited_in_src_and_tests_is_a_row_of_docs_security_md() -> None:
    rows = matrix_rows()
    missing = {
        f"{path.relative_to(ROOT)}: {row_id}"
        for path in _sources()
        for row_id in cited_ids(path.read_text(encoding="utf-8"))
        if row_id not in rows
    }
    assert not missing, (
        "these security-matrix ids are cited in the code but have no row in docs/security.md "
        f"(add the row, or fix the citation): {sorted(missing)}"
    )


def test_every_id_of_the_matrix_is_cited_by_the_code() -> None:
    cited: set[str] = set()
    for path in _sources():
        cited |= cited_ids(path.read_text(encoding="utf-8"))
    assert set(matrix_rows()) <= cited


def _row_order(row_id: str) -> tuple[str, int]:
    return row_id[0], int(row_id[1:])


ROW_IDS: list[str] = sorted(matrix_rows(), key=_row_order)


@pytest.mark.parametrize("row_id", ROW_IDS)
def test_every_row_names_existing_tests(row_id: str) -> None:
    row = matrix_rows()[row_id]
    cells = row.split(" | ")
    assert len(cells) == 4, f"row {row_id}: expected attack, behaviour, defence and tests"
    references = _TEST_REF.findall(cells[-1])
    assert references, f"row {row_id} names no test file"
    for file, name in references:
        path = ROOT / file
        assert path.is_file(), f"row {row_id}: {file} does not exist"
        if not name:
            continue
        names = _test_names(path)
        if name.endswith("*"):
            assert any(n.startswith(name[:-1]) for n in names), f"row {row_id}: no {file}::{name}"
        else:
            assert name in names, f"row {row_id}: {file} has no test {name}"


def test_no_file_points_at_the_old_matrix_location() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path in (*_sources(), *ROOT.joinpath("tests").rglob("*.md"))
        if "SECURITY-" + "MATRIX.md" in path.read_text(encoding="utf-8")
    ]
    assert not stale, f"the security matrix is docs/security.md now: {stale}"
