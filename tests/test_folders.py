"""Repo folders: a folder this tool wrote is updated at its tail, with the very bytes a whole
rewrite gives; any other folder is read strictly."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traffic_sync.codec import encode_history
from traffic_sync.errors import HistoryFormatError
from traffic_sync.folders import decode_folder, fingerprint, index_history, merge_into
from traffic_sync.history import apply_observation, count_new_days
from traffic_sync.models import (
    Bucket,
    History,
    Observation,
    PopularPath,
    Referrer,
    RepoInfo,
    TrafficAnswer,
)

FOLDER = "data/octo/hello"
START = dt.date(2025, 6, 1)
REPO = RepoInfo("octo/hello", 7, START - dt.timedelta(days=3), private=False, stars=4)

counts = st.integers(0, 500)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def observations(draw: st.DrawFn, day: dt.date) -> Observation:
    """A fetch on `day`: some of its 15 daily buckets (rarely one from before the window),
    and a few referrers and paths whose text may hold commas, quotes or line breaks."""
    offsets = draw(st.sets(st.integers(0, 15), max_size=15))

    def answer() -> TrafficAnswer:
        buckets = tuple(
            Bucket(day - dt.timedelta(days=o), draw(counts), draw(counts)) for o in sorted(offsets)
        )
        return TrafficAnswer(sum(b.count for b in buckets), draw(counts), buckets)

    return Observation(
        repo=REPO,
        fetched_on=day,
        views=answer(),
        clones=answer(),
        referrers=tuple(
            Referrer(r, draw(counts), draw(counts)) for r in draw(st.sets(texts, max_size=3))
        ),
        paths=tuple(
            PopularPath(p, draw(texts), draw(counts), draw(counts))
            for p in draw(st.sets(texts, max_size=3))
        ),
    )


@st.composite
def runs(draw: st.DrawFn) -> list[Observation]:
    """Runs on increasing days, sometimes weeks apart, sometimes twice on the same day."""
    day, out = START, []
    for _ in range(draw(st.integers(1, 8))):
        day += dt.timedelta(days=draw(st.sampled_from([0, 1, 1, 2, 9, 40])))
        out.append(draw(observations(day)))
    return out


def as_files(history: History) -> dict[str, bytes]:
    return {f"{FOLDER}/{k}": v.encode() for k, v in encode_history(history).items()}


@settings(max_examples=60, deadline=None)
@given(runs())
def test_tail_update_gives_the_bytes_of_a_whole_rewrite(observations: list[Observation]) -> None:
    """Run after run, the fast way (fingerprint matches) and the strict way (no fingerprint)
    write the same files, count the same new days, and see the same views, clones and stats."""
    files: dict[str, bytes] = {}
    known: str | None = None
    for observation in observations:
        fast = merge_into(files, FOLDER, observation, known=known)
        strict = merge_into(files, FOLDER, observation, known=None)
        assert fast.files == strict.files
        assert count_new_days(fast.before, fast.after) == count_new_days(
            strict.before, strict.after
        )
        for name in ("views", "clones", "stats"):
            assert getattr(fast.after, name) == getattr(strict.after, name)
        assert fast.fingerprint == strict.fingerprint
        files = {f"{FOLDER}/{k}": v for k, v in fast.files.items()}
        known = fast.fingerprint
        assert known == fingerprint(files, FOLDER)


def test_matching_fingerprint_keeps_older_lines_as_they_are() -> None:
    """The fingerprint is what lets a run skip reading old rows: an old line in another valid
    spelling survives the fast way byte for byte, while the strict way rewrites it."""
    old = apply_observation(History(), _quiet(START))
    files = as_files(old)
    views = files[f"{FOLDER}/views.json"].decode()
    first = views.split("\n")[1]
    respelled = first.replace(", ", ",")
    files[f"{FOLDER}/views.json"] = views.replace(first, respelled, 1).encode()
    later = _quiet(START + dt.timedelta(days=30))

    fast = merge_into(files, FOLDER, later, known=fingerprint(files, FOLDER))
    strict = merge_into(files, FOLDER, later, known=None)

    assert respelled in fast.files["views.json"].decode()
    assert respelled not in strict.files["views.json"].decode()
    assert first in strict.files["views.json"].decode()


def test_changed_folder_is_read_strictly() -> None:
    """A file edited by hand no longer matches the fingerprint, so it is checked row by row and
    refused when wrong, however old the bad row is."""
    files = as_files(apply_observation(History(), _quiet(START)))
    known = fingerprint(files, FOLDER)
    views = files[f"{FOLDER}/views.json"].decode()
    files[f"{FOLDER}/views.json"] = views.replace('"count": 0', '"count": -1', 1).encode()
    with pytest.raises(HistoryFormatError, match=r"views\.json"):
        merge_into(files, FOLDER, _quiet(START + dt.timedelta(days=30)), known=known)
    with pytest.raises(HistoryFormatError, match=r"views\.json"):
        index_history(files, FOLDER, known=known)


def test_missing_file_means_no_fingerprint() -> None:
    """A folder missing one of its ten files has no fingerprint; it reads as empty there."""
    files = as_files(apply_observation(History(), _quiet(START)))
    del files[f"{FOLDER}/paths.csv"]
    assert fingerprint(files, FOLDER) is None
    assert decode_folder(files, FOLDER).views == apply_observation(History(), _quiet(START)).views


def test_index_reads_only_what_it_shows() -> None:
    """The index needs views, clones and stats; the snapshots are not read for it."""
    history = apply_observation(History(), _busy(START))
    files = as_files(history)
    files[f"{FOLDER}/paths.json"] = b"{broken"
    shown = index_history(files, FOLDER, known=None)
    assert shown == History(views=history.views, clones=history.clones, stats=history.stats)
    assert shown.views == decode_folder(as_files(history), FOLDER).views


def _quiet(day: dt.date) -> Observation:
    return Observation(REPO, day, TrafficAnswer(0, 0), TrafficAnswer(0, 0))


def _busy(day: dt.date) -> Observation:
    bucket = (Bucket(day - dt.timedelta(days=3), 5, 2),)
    return Observation(
        REPO,
        day,
        TrafficAnswer(5, 2, bucket),
        TrafficAnswer(5, 2, bucket),
        (Referrer("Google", 3, 1),),
        (PopularPath("/octo/hello", "Hello", 4, 2),),
    )
