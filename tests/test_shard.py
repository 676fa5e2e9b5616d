"""The split of repos among the N shards of a matrix: by id, stable, every repo exactly once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from traffic_sync.branch.state import BranchState
from traffic_sync.core.models import RepoRef
from traffic_sync.core.shard import Shard, select


def shards(count: int) -> list[Shard]:
    return [Shard(index, count) for index in range(1, count + 1)]


@given(st.sets(st.integers(min_value=1, max_value=2**40), max_size=60), st.integers(1, 12))
def test_every_repo_falls_in_exactly_one_shard(ids: set[int], count: int) -> None:
    """The N shards together take each id once: none twice, none left out."""
    refs = [RepoRef(f"octo/r{i}", i) for i in sorted(ids)]
    taken = [name for shard in shards(count) for name in select(refs, shard, known={}).names]
    assert sorted(taken) == sorted(r.full_name for r in refs)


@given(st.lists(st.integers(min_value=1, max_value=10**9), unique=True, max_size=40))
def test_a_repo_stays_in_its_shard_as_repos_are_added(ids: list[int]) -> None:
    """Adding repos (or listing them in another order) never moves a repo to another shard."""
    before = [RepoRef(f"octo/r{i}", i) for i in ids[: len(ids) // 2]]
    after = [RepoRef(f"octo/r{i}", i) for i in reversed(ids)]
    for shard in shards(4):
        kept = set(select(before, shard, known={}).names)
        assert kept <= set(select(after, shard, known={}).names)


def test_shard_k_takes_ids_with_remainder_k_minus_one() -> None:
    """Shard K of N holds the ids with `id % N == K - 1`, in the order they were listed."""
    refs = [RepoRef(f"octo/r{i}", i) for i in (9, 4, 8, 5, 12, 7)]
    chosen = select(refs, Shard(1, 4), known={})
    assert chosen.names == ("octo/r4", "octo/r8", "octo/r12")
    assert chosen.unknown == frozenset()
    assert chosen.others == 3
    assert select(refs, Shard(2, 4), known={}).names == ("octo/r9", "octo/r5")
    assert Shard(1, 1).holds(7)
    assert str(Shard(3, 4)) == "3/4"


def test_named_repo_takes_its_id_from_state_or_is_looked_up() -> None:
    """A named repo's id comes from state.json (case-insensitive); an unknown one is kept by
    every shard, marked for the id check of its first request."""
    refs = [RepoRef("Octo/Known"), RepoRef("octo/new"), RepoRef("octo/listed", 9)]
    known = {"octo/known": 5}
    first = select(refs, Shard(2, 4), known=known)
    assert first.names == ("Octo/Known", "octo/new", "octo/listed")
    assert first.unknown == frozenset({"octo/new"})
    other = select(refs, Shard(1, 4), known=known)
    assert other.names == ("octo/new",)
    assert other.others == 2


def test_known_ids_read_state_names() -> None:
    """state.json (keyed by id) gives lower-case name -> id; foreign keys are ignored."""
    state: dict[str, dict[str, object]] = {
        "11": {"full_name": "Octo/Alpha", "last_success": "2026-03-01"},
        "12": {"full_name": "octo/beta"},
        "notes": {"full_name": "octo/gamma", "last_success": "2026-03-01"},
        "13": {"last_success": "2026-03-01"},
    }
    assert BranchState.from_json(state).known_ids() == {"octo/alpha": 11, "octo/beta": 12}


def test_a_name_taken_again_goes_to_the_repo_synced_last_under_it() -> None:
    """Two ids with one name (renamed, the old name reused): the later sync wins; a tie is
    left to the repo's own request."""
    state: dict[str, dict[str, object]] = {
        "21": {"full_name": "octo/site", "last_success": "2026-01-10"},
        "22": {"full_name": "Octo/Site", "last_success": "2026-02-01"},
        "31": {"full_name": "octo/twin", "last_success": "2026-02-01"},
        "32": {"full_name": "octo/twin", "last_success": "2026-02-01"},
    }
    assert BranchState.from_json(state).known_ids() == {"octo/site": 22}
