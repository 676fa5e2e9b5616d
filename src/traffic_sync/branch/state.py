"""state.json, the tool's own state in the data branch: a versioned record, read and written here.

`BranchState` is the file: its schema (which layout the branch is in) and a `RepoEntry` per repo
id: the name its folder has, the day of its last successful sync, the folder's fingerprint, what
the last write of the folder saw (`seen`), the stars and forks fetch states (`GrowthState`) and
PostHog's sent-through dates (the watermarks). Every reader and writer goes through `decode` and
`encode`, so no other module knows the file's keys.

Reading is tolerant, as a file people may edit must be: a value that cannot be read counts as
unknown (a folder read whole, a backfill again, a sync day not known), never as a lost row, and is
written back as it was found, as are keys this version does not know. A watermark that cannot be
read is the exception: it is reported (`watermarks`), never taken as "nothing sent". The same
content always encodes to the same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from traffic_sync.core.errors import StoreError
from traffic_sync.core.growth import Position, Series
from traffic_sync.core.models import GrowthState, GrowthUpdate, Metric, SeriesKey, Watermarks

STATE_FILE = ".traffic-sync/state.json"
# state.json's schema says which layout the branch is in: 2, period files (`views/2026.json`);
# 1, layout 1's whole files (`views.json`), or some of them still left while the branch moves.
STATE_SCHEMA = 2
LAYOUT1_SCHEMA = 1

# a repo entry's keys
NAME = "full_name"
LAST_SUCCESS = "last_success"
FINGERPRINT = "files_sha256"  # the folder's fingerprint (see `folders.fingerprint`)
SEEN = "seen"  # what the last write of the folder saw (see `view.seen_key`)
STATE_KEY = "growth"  # the stars and forks states
WATERMARKS = "posthog_sent_through"  # what PostHog has


@dataclass(frozen=True)
class RepoEntry:
    """One repo's entry, by its id (see the module's docstring); None: not known."""

    full_name: str | None = None
    last_success: dt.date | None = None
    fingerprint: str | None = None
    seen: str | None = None
    growth: Mapping[str, GrowthState] = field(default_factory=dict)  # series -> state
    sent_through: Mapping[Metric, dt.date] = field(default_factory=dict)
    kept: Mapping[str, object] = field(default_factory=dict)  # unknown keys, unreadable values

    @classmethod
    def decode(cls, raw: Mapping[str, object]) -> RepoEntry:
        """An entry from its JSON object; what cannot be read is kept as it is (`kept`)."""
        kept = {
            key: value
            for key, value in raw.items()
            if key not in _READERS or _READERS[key](value) is None
        }
        found = {
            _FIELDS[key]: _READERS[key](value) for key, value in raw.items() if key not in kept
        }
        return cls(**found, kept=kept)

    def to_json(self) -> dict[str, object]:
        """The entry as state.json keeps it."""
        data: dict[str, object] = dict(self.kept)
        for key, value in (
            (NAME, self.full_name),
            (LAST_SUCCESS, self.last_success and self.last_success.isoformat()),
            (FINGERPRINT, self.fingerprint),
            (SEEN, self.seen),
        ):
            if value is not None:
                data[key] = value
        if self.growth:
            data[STATE_KEY] = {s: growth_state_json(g) for s, g in sorted(self.growth.items())}
        if self.sent_through:
            data[WATERMARKS] = {m.value: d.isoformat() for m, d in self.sent_through.items()}
        return data

    def growth_state(self, series: Series) -> GrowthState:
        """A series' state; one never fetched (or unreadable) counts as never fetched, which
        costs a backfill again, never a wrong row (rows merge by max)."""
        return self.growth.get(str(series), GrowthState())

    def with_growth(self, updates: Sequence[GrowthUpdate]) -> RepoEntry:
        """The entry with this run's series states put in, the other series kept."""
        if not updates:
            return self
        growth = dict(self.growth)
        growth.update((str(update.series), update.state) for update in updates)
        kept = {k: v for k, v in self.kept.items() if k != STATE_KEY}
        return dataclasses.replace(self, growth=growth, kept=kept)

    def with_values(self, **values: Any) -> RepoEntry:
        """The entry with these fields set (an unreadable value they had found goes)."""
        gone = {_KEYS[name] for name in values}
        kept = {k: v for k, v in self.kept.items() if k not in gone}
        return dataclasses.replace(self, **values, kept=kept)


@dataclass(frozen=True)
class BranchState:
    """state.json: the branch's layout (`schema`) and the repo entries, by id (text)."""

    schema: int = STATE_SCHEMA
    repos: Mapping[str, RepoEntry] = field(default_factory=dict)

    @classmethod
    def decode(cls, raw: bytes | None, *, path: str = STATE_FILE) -> BranchState:
        """The record from the file's bytes (`path`: where it is, for the errors); a branch
        without one is new, so in the current layout. Raises StoreError when the file is not a
        state.json or is one a newer version wrote."""
        if raw is None:
            return cls()
        try:
            data = json.loads(raw)
            schema, repos = data["schema"], data["repos"]
            entries = {str(k): dict(v) for k, v in repos.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _unreadable_state(path) from exc
        if type(schema) is not int or schema < LAYOUT1_SCHEMA:
            raise _unreadable_state(path)
        if schema > STATE_SCHEMA:
            raise StoreError(
                f"{path} in the data branch says it is in layout {schema}, which a newer "
                f"version of traffic-sync wrote; this version knows layouts up to "
                f"{STATE_SCHEMA}. Nothing was written.",
                fix="Use the newer version of traffic-sync (the action's tag) in every workflow "
                "that writes this branch.",
            )
        return cls.from_json(entries, schema=schema)

    @classmethod
    def from_json(
        cls, repos: Mapping[str, Mapping[str, object]], *, schema: int = STATE_SCHEMA
    ) -> BranchState:
        """The record from state.json's `repos` object, as JSON gives it."""
        return cls(schema, {str(k): RepoEntry.decode(v) for k, v in repos.items()})

    def to_json(self) -> dict[str, dict[str, object]]:
        """The `repos` object, as state.json keeps it."""
        return {key: entry.to_json() for key, entry in sorted(self.repos.items())}

    def encode(self) -> bytes:
        data = {"schema": self.schema, "repos": self.to_json()}
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()

    def entry(self, repo_id: int | str) -> RepoEntry:
        """A repo's entry; an empty one when state.json has none."""
        return self.repos.get(str(repo_id)) or RepoEntry()

    def with_entry(self, repo_id: int | str, entry: RepoEntry) -> BranchState:
        return dataclasses.replace(self, repos={**self.repos, str(repo_id): entry})

    def with_fingerprint(self, full_name: str, fingerprint: str) -> BranchState:
        """The record with `fingerprint` kept for each entry whose folder is `full_name`."""
        repos = {
            key: (
                entry.with_values(fingerprint=fingerprint)
                if entry.full_name == full_name
                else entry
            )
            for key, entry in self.repos.items()
        }
        return dataclasses.replace(self, repos=repos)

    def folder_claims(self) -> dict[str, list[str]]:
        """Folder name -> the ids of the entries that name it, in id order."""
        claims: dict[str, list[str]] = {}
        for key, entry in sorted(self.repos.items()):
            if entry.full_name is not None:
                claims.setdefault(entry.full_name, []).append(key)
        return claims

    def last_success_by_name(self) -> dict[str, dt.date]:
        """lower-case full name -> the last successful sync day under it."""
        last: dict[str, dt.date] = {}
        for entry in self.repos.values():
            name, day = entry.full_name, entry.last_success
            if name is not None and day is not None:
                last[name.lower()] = max(day, last.get(name.lower(), day))
        return last

    def known_ids(self) -> dict[str, int]:
        """Lower-case full name -> repo id, from the entries (keyed by id, each with its name at
        its last success).

        Two ids can claim one name when a repo was renamed and another took its old name: the
        one synced last under that name wins, and a tie leaves the name out (its GET decides).
        """
        best: dict[str, tuple[dt.date, int | None]] = {}
        for key, entry in self.repos.items():
            name = entry.full_name
            if not (key.isascii() and key.isdigit() and name is not None):
                continue
            when = entry.last_success or dt.date.min
            lower, repo_id = name.lower(), int(key)
            seen = best.get(lower)
            if seen is None or when > seen[0]:
                best[lower] = (when, repo_id)
            elif when == seen[0] and seen[1] != repo_id:
                best[lower] = (when, None)
        return {name: repo_id for name, (_, repo_id) in best.items() if repo_id is not None}

    def watermarks(self) -> Watermarks:
        """PostHog's sent-through dates; ValueError names one that cannot be read."""
        marks: Watermarks = {}
        for repo_id, entry in self.repos.items():
            sent = dict(entry.sent_through)
            if WATERMARKS in entry.kept:  # unreadable, or with keys this version does not know
                sent = _check_watermarks(repo_id, entry.kept[WATERMARKS])
            if (WATERMARKS in entry.kept or sent) and not repo_id.isdigit():
                raise ValueError(f"repos.{repo_id}.{WATERMARKS} is not an object")
            marks.update(((int(repo_id), m), day) for m, day in sent.items())
        return marks

    def with_watermarks(self, marks: Mapping[SeriesKey, dt.date]) -> BranchState:
        """The record with `marks` in; a later date already there wins. Raises ValueError when
        a stored one cannot be read."""
        stored = self.watermarks()
        state = self
        for (repo_id, metric), day in sorted(marks.items()):
            entry = state.entry(repo_id)
            latest = max(day, stored.get((repo_id, metric), day))
            sent = dict(sorted({**entry.sent_through, metric: latest}.items()))
            state = state.with_entry(repo_id, entry.with_values(sent_through=sent))
        return state


def encode_state(repos: Mapping[str, Mapping[str, object]], *, schema: int = STATE_SCHEMA) -> bytes:
    """state.json's bytes for a `repos` object given as JSON (a new branch's, a fixture's)."""
    return BranchState.from_json(repos, schema=schema).encode()


def state_path(data_path: str) -> str:
    """Where state.json is in the branch."""
    return f"{data_path}/{STATE_FILE}" if data_path else STATE_FILE


def read_state(files: Mapping[str, bytes], data_path: str) -> BranchState:
    """The record among a branch's `files` (path -> bytes); a new one when there is none."""
    path = state_path(data_path)
    return BranchState.decode(files.get(path), path=path)


def growth_state_json(state: GrowthState) -> dict[str, Any]:
    """A series' state as state.json keeps it."""
    return {
        "count": state.count,
        "through": None if state.through is None else state.through.isoformat(),
        "pending": [p.to_json() for p in state.pending],
        "queries": state.queries,
    }


def _unreadable_state(path: str) -> StoreError:
    return StoreError(
        f"{path} in the data branch cannot be read.",
        fix=f"Restore it from the branch's history or delete {path}; nothing was written.",
    )


# --- reading the entries' values: None when one cannot be read ---------------------------------


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _day(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _growth(value: object) -> dict[str, GrowthState] | None:
    if not isinstance(value, dict) or not value:
        return None
    return {str(series): _growth_state(kept) for series, kept in sorted(value.items())}


def _growth_state(value: object) -> GrowthState:
    """A series' state; what cannot be read counts as never fetched."""
    if not isinstance(value, dict):
        return GrowthState()
    try:
        count, through, queries = value.get("count"), value.get("through"), value.get("queries", 0)
        return GrowthState(
            count=count if _is_count(count) else None,
            through=dt.date.fromisoformat(through) if isinstance(through, str) else None,
            pending=tuple(Position.from_json(p) for p in value.get("pending") or ()),
            queries=queries if _is_count(queries) else 0,
        )
    except (ValueError, TypeError):
        return GrowthState()


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _sent_through(value: object) -> dict[Metric, dt.date] | None:
    """The watermarks, when every one can be read and none is of a metric not known here."""
    if not isinstance(value, dict) or not set(value) <= {m.value for m in Metric}:
        return None
    days = {Metric(key): _day(text) for key, text in value.items()}
    if any(day is None for day in days.values()):
        return None
    return {metric: day for metric, day in days.items() if day is not None}


def _check_watermarks(repo_id: str, stored: object) -> dict[Metric, dt.date]:
    """The dates of the metrics known here in a repo's stored watermarks; ValueError names
    what cannot be read."""
    if not isinstance(stored, dict):
        raise ValueError(f"repos.{repo_id}.{WATERMARKS} is not an object")
    sent: dict[Metric, dt.date] = {}
    for metric in Metric:
        text = stored.get(metric.value)
        if text is None:
            continue
        day = _day(text)
        if day is None:
            raise ValueError(f"repos.{repo_id}.{WATERMARKS}.{metric.value} is not a date: {text!r}")
        sent[metric] = day
    return sent


_READERS: dict[str, Any] = {
    NAME: _text,
    LAST_SUCCESS: _day,
    FINGERPRINT: _text,
    SEEN: _text,
    STATE_KEY: _growth,
    WATERMARKS: _sent_through,
}
_FIELDS = {
    NAME: "full_name",
    LAST_SUCCESS: "last_success",
    FINGERPRINT: "fingerprint",
    SEEN: "seen",
    STATE_KEY: "growth",
    WATERMARKS: "sent_through",
}
_KEYS = {name: key for key, name in _FIELDS.items()}
