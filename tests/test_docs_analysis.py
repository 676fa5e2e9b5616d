"""docs/analysis.md's recipes run as written against a branch the demo writes.

The SQL and Python blocks are read from the Markdown itself, so the page cannot drift from what
works: each SQL block runs in one DuckDB connection (later blocks use the views earlier ones
make), each Python block in one namespace, in the order the page gives them, in the folder of
the demo's data branch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from traffic_sync.cli_demo import write_demo

pytestmark = pytest.mark.slow  # the demo's daily runs, end to end

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "analysis.md"
# three runs across New Year: the views and clones of each repo are in two year files
# (2025.csv, 2026.csv), so a recipe that read one file per repo would miss rows
LAST_DAY = dt.date(2026, 1, 2)
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def code_blocks(markdown: str, language: str) -> list[str]:
    """The code of every fenced block of one language, in page order."""
    return [code for lang, code in BLOCK.findall(markdown) if lang == language]


@pytest.fixture(scope="module")
def demo_branch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data branch of a three-day demo, checked out in a folder."""
    out = tmp_path_factory.mktemp("analysis") / "traffic"
    write_demo(out, 3, LAST_DAY, say=lambda line: None)
    return out


def repos_in(branch: Path) -> set[tuple[str, str]]:
    """(owner, name) of each repo folder the branch holds, read from its views JSON files."""
    return {(p.parts[-4], p.parts[-3]) for p in branch.glob("*/*/views/*.json")}


def json_rows(branch: Path, dataset: str) -> list[dict[str, Any]]:
    """Every row of a dataset's JSON files (the source of truth), with owner and name."""
    rows = []
    for path in sorted(branch.glob(f"*/*/{dataset}/*.json")):
        for row in json.loads(path.read_text(encoding="utf-8")):
            rows.append({**row, "owner": path.parts[-4], "name": path.parts[-3]})
    return rows


def test_the_page_has_recipes_for_both_tools() -> None:
    """analysis.md gives DuckDB and pandas recipes (so the tests below have code to run)."""
    page = PAGE.read_text(encoding="utf-8")
    assert len(code_blocks(page, "sql")) >= 4
    assert len(code_blocks(page, "python")) >= 3
    assert "filename = true" in page


def test_every_duckdb_recipe_runs_and_reads_every_repo(
    demo_branch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each SQL block runs in DuckDB and answers rows; the views table holds every JSON row of
    every repo and year, with the repo taken from the path."""
    monkeypatch.chdir(demo_branch)
    connection = duckdb.connect()
    results = []
    for code in code_blocks(PAGE.read_text(encoding="utf-8"), "sql"):
        relation = connection.sql(code)
        assert relation is not None, code
        results.append(relation.fetchall())
        assert results[-1], f"no rows from:\n{code}"
    expected = json_rows(demo_branch, "views")
    table = connection.sql("SELECT owner, name, date, count FROM views").fetchall()
    assert sorted(table) == sorted(
        (r["owner"], r["name"], dt.date.fromisoformat(r["date"]), r["count"]) for r in expected
    )
    assert {(owner, name) for owner, name, *_ in table} == repos_in(demo_branch)
    assert len({r["date"][:4] for r in expected}) == 2  # both year files were read


def test_every_pandas_recipe_runs_and_reads_every_repo(
    demo_branch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each Python block runs in turn; `views` and `stats` hold every JSON row of every repo."""
    monkeypatch.chdir(demo_branch)
    namespace: dict[str, Any] = {"__name__": "analysis"}
    for code in code_blocks(PAGE.read_text(encoding="utf-8"), "python"):
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            exec(compile(code, str(PAGE), "exec"), namespace)  # noqa: S102 - the docs' own code
        assert printed.getvalue().strip(), f"the block printed nothing:\n{code}"
    views = namespace["views"]
    expected = json_rows(demo_branch, "views")
    assert len(views) == len(expected)
    assert int(views["count"].sum()) == sum(r["count"] for r in expected)
    assert set(zip(views["owner"], views["name"], strict=True)) == repos_in(demo_branch)
    latest = namespace["latest"]
    assert len(latest) == len(repos_in(demo_branch))
    assert set(latest["date"]) == {pd.Timestamp(LAST_DAY)}
