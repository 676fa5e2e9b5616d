"""Which repos a run takes when `shard: K/N` splits them among N jobs (pure).

A repo belongs to shard K when `id % N == K - 1`. GitHub's numeric id never changes, not on a
rename or a transfer, so a repo stays in its shard as repos come and go, and the N jobs of a
matrix cover every repo exactly once without talking to each other.

A listing (`owner/*`) carries each repo's id. A named repo (`owner/name`) gets its id from
state.json, which keeps the name each id had at its last sync; a name state.json does not know
is looked up by the `GET /repos/{o}/{r}` the repo costs anyway, and a shard that finds the id
is not its own stops there, before any traffic request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from traffic_sync.core.models import RepoRef


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (both from 1): `1/1`, the default, takes every repo."""

    index: int = 1
    count: int = 1

    def holds(self, repo_id: int) -> bool:
        return repo_id % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard()  # no split: every repo


@dataclass(frozen=True, slots=True)
class Selection:
    """This shard's repos, in the order given, and the names whose id is not known yet (the
    shard keeps such a repo only if its `GET /repos/{o}/{r}` answers an id it holds)."""

    names: tuple[str, ...]
    unknown: frozenset[str]
    others: int  # repos left to the other shards


def select(refs: Sequence[RepoRef], shard: Shard, *, known: Mapping[str, int]) -> Selection:
    """Split `refs` by id; `known` maps lower-case names to ids (see `BranchState.known_ids`).

    A name whose id state.json gives is decided by that id without a request. If the name now
    leads to another repo (renamed, and the name taken again since), the shard that state.json
    points to still learns it from the repo's GET and keeps it, so no repo is dropped.
    """
    names: list[str] = []
    unknown: set[str] = set()
    others = 0
    for ref in refs:
        repo_id = ref.id if ref.id is not None else known.get(ref.full_name.lower())
        if repo_id is None:
            unknown.add(ref.full_name)
        elif not shard.holds(repo_id):
            others += 1
            continue
        names.append(ref.full_name)
    return Selection(tuple(names), frozenset(unknown), others)
