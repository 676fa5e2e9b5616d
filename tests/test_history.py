"""The merge rules: the window's final days, zero-fill, and the laws every run relies on."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from traffic_sync.core.growth import GrowthRow, merge_growth
from traffic_sync.core.history import (
    apply_observation,
    count_new_days,
    merge_daily,
    merge_histories,
    observe_daily,
    replace_snapshot,
)
from traffic_sync.core.models import (
    Bucket,
    DailyRow,
    History,
    Observation,
    PopularPath,
    Referrer,
    ReferrerRow,
    ReleaseRow,
    RepoInfo,
    TrafficAnswer,
)

F = dt.date(2026, 1, 20)
LONG_AGO = dt.date(2020, 1, 1)


def day(offset: int) -> dt.date:
    """The day `offset` days before F."""
    return F - dt.timedelta(days=offset)


def answer(*buckets: tuple[int, int, int]) -> TrafficAnswer:
    """A traffic answer from (days before F, count, uniques) triples."""
    rows = tuple(Bucket(day(o), c, u) for o, c, u in buckets)
    return TrafficAnswer(
        sum(b.count for b in rows), max((b.uniques for b in rows), default=0), rows
    )


def repo(created: dt.date = LONG_AGO) -> RepoInfo:
    return RepoInfo("octo/hello", 1, created, private=False, stars=5, forks=1, watchers=2)


def observation(
    views: TrafficAnswer, *, on: dt.date = F, created: dt.date = LONG_AGO
) -> Observation:
    return Observation(
        repo=repo(created),
        fetched_on=on,
        views=views,
        clones=TrafficAnswer(0, 0),
        referrers=(Referrer("Google", 4, 3),),
        paths=(PopularPath("/octo/hello", "octo/hello", 9, 4),),
    )


def test_final_window_is_f13_to_f2() -> None:
    """Buckets F-13..F-2 are final; F-14 (truncated), F-1 and F (partial) are not."""
    rows = observe_daily(
        answer((14, 1, 1), (13, 2, 2), (2, 3, 3), (1, 4, 4), (0, 5, 5)),
        fetched_on=F,
        created=LONG_AGO,
    )
    final = {r.date: r.final for r in rows}
    assert final[day(14)] is False
    assert final[day(13)] is True
    assert final[day(2)] is True
    assert final[day(1)] is False
    assert final[day(0)] is False


def test_omitted_days_in_final_window_are_zero_filled() -> None:
    """A day inside F-13..F-2 that the answer omits had no traffic: it becomes 0/0, final."""
    rows = observe_daily(answer((5, 7, 2)), fetched_on=F, created=LONG_AGO)
    assert [r.date for r in rows] == [day(o) for o in range(13, 1, -1)]
    assert DailyRow(day(6), 0, 0, True) in rows
    assert DailyRow(day(5), 7, 2, True) in rows


def test_edge_days_are_recorded_only_when_returned() -> None:
    """F-14, F-1 and F get no zero row: an omitted edge day may just be unpublished."""
    rows = observe_daily(answer(), fetched_on=F, created=LONG_AGO)
    dates = {r.date for r in rows}
    assert dates.isdisjoint({day(14), day(1), day(0)})


def test_zero_fill_starts_at_creation_day() -> None:
    """No zero rows are invented before the repo existed."""
    created = day(4)
    rows = observe_daily(answer(), fetched_on=F, created=created)
    assert [r.date for r in rows] == [day(4), day(3), day(2)]


def test_repo_created_today_has_no_rows_until_traffic() -> None:
    """A repo created on F has no final day yet and so no rows at all."""
    assert observe_daily(answer(), fetched_on=F, created=F) == ()
    assert observe_daily(answer((0, 3, 1)), fetched_on=F, created=F) == (DailyRow(F, 3, 1, False),)


def test_truncated_left_edge_never_lowers_a_complete_day() -> None:
    """The max keeps the complete count when a later fetch sees the day truncated at F-14."""
    complete = observe_daily(answer((13, 100, 40)), fetched_on=F, created=LONG_AGO)
    truncated = observe_daily(
        answer((14, 12, 5)), fetched_on=F + dt.timedelta(days=1), created=LONG_AGO
    )
    merged = {r.date: r for r in merge_daily(complete, truncated)}
    assert merged[day(13)] == DailyRow(day(13), 100, 40, True)


def test_partial_today_grows_and_then_becomes_final() -> None:
    """Day F seen partial, then complete two days later: the bigger, final value wins."""
    partial = observe_daily(answer((0, 3, 2)), fetched_on=F, created=LONG_AGO)
    later = observe_daily(
        TrafficAnswer(9, 4, (Bucket(F, 9, 4),)),
        fetched_on=F + dt.timedelta(days=2),
        created=LONG_AGO,
    )
    merged = {r.date: r for r in merge_daily(partial, later)}
    assert merged[F] == DailyRow(F, 9, 4, True)


def test_snapshot_replaces_only_its_own_date() -> None:
    """A later write of the same date replaces that date's rows; other dates stay."""
    old = (
        ReferrerRow(day(1), "Google", 5, 2),
        ReferrerRow(F, "Google", 3, 1),
        ReferrerRow(F, "Bing", 1, 1),
    )
    new = replace_snapshot(old, [ReferrerRow(F, "Google", 4, 2)], on=F)
    assert new == (ReferrerRow(day(1), "Google", 5, 2), ReferrerRow(F, "Google", 4, 2))


def test_empty_snapshot_answer_clears_that_date() -> None:
    """An empty answer leaves the fetch day with no rows, and other days untouched."""
    old = (ReferrerRow(day(1), "Google", 5, 2), ReferrerRow(F, "Google", 3, 1))
    assert replace_snapshot(old, [], on=F) == (ReferrerRow(day(1), "Google", 5, 2),)


def test_apply_observation_writes_all_five_datasets() -> None:
    """One fetch yields views, clones (zero-filled), the three snapshots and the stats row."""
    history = apply_observation(History(), observation(answer((3, 10, 4))))
    assert len(history.views) == 12
    assert len(history.clones) == 12
    assert all(r.count == 0 for r in history.clones)
    assert [r.referrer for r in history.referrers] == ["Google"]
    assert [r.path for r in history.paths] == ["/octo/hello"]
    (stats,) = history.stats
    assert (stats.date, stats.stars, stats.watchers, stats.views_14d) == (F, 5, 2, 10)


def test_count_new_days_counts_views_and_clones_rows() -> None:
    """`days-added` counts new views rows plus new clones rows, not changed ones."""
    first = apply_observation(History(), observation(answer((3, 10, 4))))
    second = apply_observation(first, observation(answer((3, 11, 4)), on=F + dt.timedelta(days=1)))
    assert count_new_days(History(), first) == 24
    assert count_new_days(first, second) == 2


# --- the laws, for any rows -------------------------------------------------------------

dates = st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2026, 1, 31))
rows = st.builds(
    DailyRow,
    date=dates,
    count=st.integers(0, 10_000),
    uniques=st.integers(0, 10_000),
    final=st.booleans(),
)
series = st.lists(rows, max_size=30)


@given(series, series)
def test_merge_is_commutative(a: list[DailyRow], b: list[DailyRow]) -> None:
    """Merging two runs in either order gives the same rows."""
    assert merge_daily(a, b) == merge_daily(b, a)


@given(series, series, series)
def test_merge_is_associative(a: list[DailyRow], b: list[DailyRow], c: list[DailyRow]) -> None:
    """Grouping does not matter: (a+b)+c == a+(b+c)."""
    assert merge_daily(merge_daily(a, b), c) == merge_daily(a, merge_daily(b, c))


@given(series, series)
def test_merge_is_idempotent(a: list[DailyRow], b: list[DailyRow]) -> None:
    """Merging the same rows again changes nothing."""
    once = merge_daily(a, b)
    assert merge_daily(once, b) == once
    assert merge_daily(once, once) == once


@given(series, series)
def test_merge_never_lowers_or_drops(a: list[DailyRow], b: list[DailyRow]) -> None:
    """Every input row survives with a value at least as high and final at least as set."""
    merged = {r.date: r for r in merge_daily(a, b)}
    for row in [*a, *b]:
        kept = merged[row.date]
        assert kept.count >= row.count
        assert kept.uniques >= row.uniques
        assert kept.final >= row.final


@given(series)
def test_merge_output_is_sorted_and_unique(a: list[DailyRow]) -> None:
    """Rows come out sorted by date, one per date."""
    out = [r.date for r in merge_daily(a)]
    assert out == sorted(set(out))


buckets = st.lists(
    st.builds(
        Bucket,
        date=st.integers(0, 14).map(day),
        count=st.integers(0, 500),
        uniques=st.integers(0, 500),
    ),
    max_size=15,
)
fetch_days = st.integers(0, 20).map(lambda o: F + dt.timedelta(days=o))


@given(buckets, fetch_days, buckets, fetch_days)
def test_two_runs_merge_in_either_order(
    b1: list[Bucket], f1: dt.date, b2: list[Bucket], f2: dt.date
) -> None:
    """Two runs' observations applied in either order give the same daily history."""
    o1 = observation(TrafficAnswer(0, 0, tuple(b1)), on=f1)
    o2 = observation(TrafficAnswer(0, 0, tuple(b2)), on=f2)
    one_way = apply_observation(apply_observation(History(), o1), o2)
    other_way = apply_observation(apply_observation(History(), o2), o1)
    assert (one_way.views, one_way.clones) == (other_way.views, other_way.clones)


@given(buckets, fetch_days)
def test_rerunning_a_day_changes_nothing(b: list[Bucket], f: dt.date) -> None:
    """Applying the same fetch twice gives exactly the history of applying it once."""
    obs = observation(TrafficAnswer(0, 0, tuple(b)), on=f)
    once = apply_observation(History(), obs)
    assert apply_observation(once, obs) == once


# --- stars, forks and releases in a history ------------------------------------------------

growth_rows = st.builds(
    GrowthRow,
    date=st.dates(min_value=dt.date(2024, 12, 1), max_value=dt.date(2026, 1, 31)),
    new=st.integers(0, 1_000),
    total=st.integers(0, 10**6),
)
release_rows = st.builds(
    ReleaseRow,
    date=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 1, 10)),
    tag=st.sampled_from(["v1", "v2"]),
    asset=st.sampled_from(["a.tar.gz", "b.zip"]),
    downloads=st.integers(0, 1_000),
)
growth_histories = st.builds(
    History,
    stars=st.lists(growth_rows, max_size=20).map(merge_growth),
    forks=st.lists(growth_rows, max_size=20).map(merge_growth),
    releases=st.lists(release_rows, max_size=10).map(lambda r: replace_snapshot((), r, on=F)),
)


@given(growth_histories, growth_histories)
def test_merged_stars_and_forks_are_commutative(a: History, b: History) -> None:
    """Stars and forks of two folders merge to the same rows in either order."""
    ab, ba = merge_histories(a, b), merge_histories(b, a)
    assert (ab.stars, ab.forks) == (ba.stars, ba.forks)


@given(growth_histories, growth_histories, growth_histories)
def test_merged_histories_are_associative(a: History, b: History, c: History) -> None:
    """Grouping does not matter for any dataset, snapshots included."""
    assert merge_histories(merge_histories(a, b), c) == merge_histories(a, merge_histories(b, c))


@given(growth_histories, growth_histories)
def test_merged_histories_are_idempotent(a: History, b: History) -> None:
    """Merging the same history in again changes nothing."""
    once = merge_histories(a, b)
    assert merge_histories(once, b) == once
    assert merge_histories(once, once) == once


@given(growth_histories, growth_histories)
def test_merged_stars_never_lower_a_day(a: History, b: History) -> None:
    """Every day of either side survives with `new` at least as high, and totals run on."""
    merged = merge_histories(a, b)
    for mine, theirs in ((merged.stars, a.stars + b.stars), (merged.forks, a.forks + b.forks)):
        new = {r.date: r.new for r in mine}
        assert all(new[r.date] >= r.new for r in theirs)
        assert [r.total for r in mine] == list(itertools.accumulate(r.new for r in mine))


@given(growth_histories, growth_histories)
def test_newer_release_snapshot_replaces_its_date(a: History, b: History) -> None:
    """A release snapshot day both hold is the newer one's; other days are kept."""
    merged = merge_histories(a, b).releases
    newer_days = {r.date for r in b.releases}
    assert {r for r in merged if r.date in newer_days} == set(b.releases)
    assert {r for r in merged if r.date not in newer_days} == {
        r for r in a.releases if r.date not in newer_days
    }


def test_apply_observation_keeps_stars_forks_and_releases() -> None:
    """A traffic fetch leaves the datasets it does not bring as they were."""
    stored = History(
        stars=(GrowthRow(day(40), 2, 2),),
        forks=(GrowthRow(day(30), 1, 1),),
        releases=(ReleaseRow(day(5), "v1", "a.zip", 7),),
    )
    after = apply_observation(stored, observation(answer((3, 10, 4))))
    assert (after.stars, after.forks, after.releases) == (
        stored.stars,
        stored.forks,
        stored.releases,
    )
