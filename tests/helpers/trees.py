"""Checks of a data branch's tree that any run must pass: complete and readable (layout 2)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection

from tests import branch

COLUMNS = {
    "views": ("date", "count", "uniques", "final"),
    "clones": ("date", "count", "uniques", "final"),
    "referrers": ("date", "referrer", "count", "uniques"),
    "paths": ("date", "path", "title", "count", "uniques"),
    "stats": (
        "date",
        "stars",
        "forks",
        "watchers",
        "open_issues",
        "views_14d",
        "view_uniques_14d",
        "clones_14d",
        "clone_uniques_14d",
    ),
    "stars": ("date", "new", "total"),
    "forks": ("date", "new", "total"),
    "releases": ("date", "tag", "asset", "downloads"),
}
SNAPSHOT_KEYS = {"referrers": "referrer", "paths": "path", "stats": None}
MONTHLY = {"referrers", "paths", "releases"}  # a file a month (`2026/03`); others a year
STATE = ".traffic-sync/state.json"
INDEX = ".traffic-sync/index.json"


def folders(tree: dict[str, bytes]) -> set[str]:
    """The repo folders (the tool's own `.traffic-sync/` folder is not one)."""
    return {
        "/".join(path.split("/")[:2])
        for path in tree
        if path.count("/") >= 2 and not path.startswith(".")
    }


def period_of(dataset: str, date: str) -> str:
    """The contract's period file of a row's date: its UTC year, or month (in a folder for its
    year) for snapshots."""
    return f"{date[:4]}/{date[5:7]}" if dataset in MONTHLY else date[:4]


def check_tree(tree: dict[str, bytes], what: str, *, names: Collection[str]) -> None:
    """Complete and readable, in layout 2: each folder holds its page and a JSON and a CSV file
    for each period that has rows, nothing else; every file parses, CSV = JSON, each row in the
    file of its date's period, rows in order and unique across the files of a dataset."""
    assert folders(tree) <= set(names), f"{what}: unexpected folders {folders(tree)}"
    state = json.loads(tree[STATE])
    assert state["schema"] == 2, f"{what}: {STATE}"
    assert isinstance(state["repos"], dict), f"{what}: {STATE}"
    # besides the contract's files, the derived ones (README): the index rows, and each
    # folder's all-time figures
    expected = {"README.md", STATE, INDEX}
    for name in folders(tree):
        expected |= {f"{name}/README.md", f".traffic-sync/totals/{name}.json"}
        assert branch.dataset_files(tree, name, "stats"), f"{what}: {name} has no stats"
        for dataset, columns in COLUMNS.items():
            where = f"{what}: {name}/{dataset}"
            keys = []
            for path in branch.dataset_files(tree, name, dataset):
                period = path.removeprefix(f"{name}/{dataset}/").removesuffix(".json")
                expected |= {path, path.removesuffix(".json") + ".csv"}
                rows = json.loads(tree[path])
                assert rows, f"{where}/{period}.json: an empty period file"
                assert all(sorted(row) == sorted(columns) for row in rows), f"{where}: columns"
                assert {period_of(dataset, row["date"]) for row in rows} == {period}, where
                csv_path = path.removesuffix(".json") + ".csv"
                table = list(csv.reader(io.StringIO(tree.get(csv_path, b"\n").decode())))
                assert tuple(table[0]) == columns, f"{where}/{period}.csv: header"
                assert table[1:] == [[csv_cell(row[c]) for c in columns] for row in rows], where
                key = SNAPSHOT_KEYS.get(dataset)
                if dataset == "releases":  # a row per asset of each release
                    keys += [(row["date"], f"{row['tag']}\0{row['asset']}") for row in rows]
                else:
                    keys += [(row["date"], row[key] if key else "") for row in rows]
            assert len(keys) == len(set(keys)), f"{where}: duplicate rows"
            assert keys == sorted(keys), f"{where}: rows out of order"
    missing, extra = sorted(expected - set(tree)), sorted(set(tree) - expected)
    assert (missing, extra) == ([], []), f"{what}: files missing or extra"


def csv_cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
