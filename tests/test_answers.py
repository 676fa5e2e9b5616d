"""Each answer checked against GitHub's documented shape before it becomes a record."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from traffic_sync.core.models import Bucket, PopularPath, Referrer, ReleaseAsset, RepoRef
from traffic_sync.github import answers
from traffic_sync.github.answers import MAX_COUNT, BadAnswer

F = dt.date(2026, 4, 2)
API = "https://api.github.com"
# GitHub's own examples (its OpenAPI description), as the simulator serves them
SIMDATA = Path(__file__).resolve().parent.parent / "src" / "traffic_sync" / "demo" / "simdata"


def views(*buckets: dict[str, Any], count: Any = 3, uniques: Any = 2) -> dict[str, Any]:
    return {"count": count, "uniques": uniques, "views": list(buckets)}


def day(date: dt.date | str, count: Any = 3, uniques: Any = 2) -> dict[str, Any]:
    stamp = f"{date}T00:00:00Z" if isinstance(date, dt.date) else date
    return {"timestamp": stamp, "count": count, "uniques": uniques}


def test_a_documented_traffic_answer_becomes_sorted_buckets() -> None:
    """Buckets of the window (F-14 .. F, and F+1 for a run across midnight) are kept, sorted."""
    edge, ahead = F - dt.timedelta(days=14), F + dt.timedelta(days=1)
    answer = answers.traffic(views(day(F), day(edge), day(ahead)), "views", fetched_on=F)
    assert [b.date for b in answer.buckets] == [edge, F, ahead]
    assert answer.buckets[0] == Bucket(edge, 3, 2)
    assert (answer.count, answer.uniques) == (3, 2)


@pytest.mark.parametrize("value", [True, 1.0, "33", -1, MAX_COUNT + 1, 10**30, None, [3]], ids=repr)
def test_a_count_is_an_integer_from_0_to_the_bound(value: Any) -> None:
    """Text, floats, bools, negatives, nulls and numbers no JSON reader holds are refused."""
    with pytest.raises(BadAnswer, match="`count`"):
        answers.traffic(views(day(F, count=value)), "views", fetched_on=F)
    with pytest.raises(BadAnswer, match="`count`"):
        answers.traffic(views(count=value), "views", fetched_on=F)
    assert answers.traffic(views(day(F, count=MAX_COUNT)), "views", fetched_on=F)


@pytest.mark.parametrize(
    "stamp",
    ["2026-04-02", "2026-04-02T00:00:00", "yesterday", "2026-02-30T00:00:00Z", 20260402],
    ids=repr,
)
def test_a_timestamp_is_a_date_time_with_its_zone(stamp: Any) -> None:
    """A date without a time zone, or not a date, is refused."""
    with pytest.raises(BadAnswer, match="`timestamp`"):
        answers.traffic(views(day(stamp)), "views", fetched_on=F)


@pytest.mark.parametrize("back", [15, -2, 400])
def test_a_day_outside_the_window_is_refused(back: int) -> None:
    """A fetch on F covers F-14 .. F (F+1 across midnight): other days are refused."""
    with pytest.raises(BadAnswer, match="outside the window"):
        answers.traffic(views(day(F - dt.timedelta(days=back))), "views", fetched_on=F)


@pytest.mark.parametrize(
    "body",
    [[], "<html>", None, {"count": 3, "uniques": 2}, views(day(F), day(F)), views("x")],
    ids=["list", "text", "null", "no-views", "a-day-twice", "not-an-object"],
)
def test_a_traffic_body_not_in_its_shape_is_refused(body: Any) -> None:
    """`[]`, text, a missing `views`, a day twice: never read as "no traffic"."""
    with pytest.raises(BadAnswer):
        answers.traffic(body, "views", fetched_on=F)


@pytest.mark.parametrize(
    "name",
    ["octo/x/y", "octo", "/x", "octo/", "octo/..", "./x", "octo/a b", "octo/é", "o\n/x", 7, None],
    ids=repr,
)
def test_a_full_name_is_two_parts_of_githubs_characters(name: Any) -> None:
    """Anything else would be a folder outside the repo's place on the data branch."""
    with pytest.raises(BadAnswer, match="full_name"):
        answers.full_name(name)
    assert answers.full_name("Octo-Org/my.repo_v2") == "Octo-Org/my.repo_v2"


def test_the_repository_example_reads_and_its_fields_are_checked() -> None:
    """GitHub's full-repository example reads; a counter of the wrong type is refused."""
    example = json.loads((SIMDATA / "full-repository.json").read_text())
    info = answers.repo_info(example)
    assert (info.full_name, info.id, info.watchers) == ("octocat/Hello-World", 1296269, 42)
    for key, value in [("stargazers_count", "80"), ("private", "no"), ("created_at", None)]:
        with pytest.raises(BadAnswer, match=key):
            answers.repo_info({**example, key: value})
    with pytest.raises(BadAnswer, match="`id`"):
        answers.repo_info({**example, "id": -1})
    assert answers.repo_private(example) is False


def test_popular_lists_and_releases_are_checked() -> None:
    """Referrers, paths and release assets: lists of objects with text and counts."""
    assert answers.referrers([{"referrer": "Google", "count": 4, "uniques": 3}]) == (
        Referrer("Google", 4, 3),
    )
    row = {"path": "/o/r", "title": "t", "count": 2, "uniques": 1}
    assert answers.paths([row]) == (PopularPath("/o/r", "t", 2, 1),)
    release = {"tag_name": "v1", "draft": False, "assets": [{"name": "a", "download_count": 5}]}
    draft = {**release, "draft": True, "assets": "never read"}
    assert answers.release_assets(release) == [ReleaseAsset("v1", "a", 5)]
    assert answers.release_assets(draft) == []
    for bad in ({"x": 1}, [{"referrer": 3, "count": 1, "uniques": 1}], [None]):
        with pytest.raises(BadAnswer):
            answers.referrers(bad)
    with pytest.raises(BadAnswer, match="title"):
        answers.paths([{**row, "title": None}])
    with pytest.raises(BadAnswer, match="download_count"):
        answers.release_assets({**release, "assets": [{"name": "a", "download_count": -1}]})


def test_listings_and_accounts_are_checked() -> None:
    """A listed repo needs its name, id, fork and archived; an account its login."""
    item = {"full_name": "octo/x", "id": 5, "fork": False, "archived": True}
    assert answers.listed_repo(item) == (RepoRef("octo/x", 5), False, True)
    assert answers.account({"login": "octo", "type": "Organization"}) == ("octo", "Organization")
    assert answers.listing([item]) == [item]
    for bad in ({**item, "full_name": "x"}, {**item, "fork": None}):
        with pytest.raises(BadAnswer):
            answers.listed_repo(bad)
    for account in ({"login": "a/b"}, {"login": "octo", "type": 1}, []):
        with pytest.raises(BadAnswer):
            answers.account(account)
    with pytest.raises(BadAnswer):
        answers.listing({"items": []})


def test_the_next_page_stays_on_the_api_and_ends() -> None:
    """GitHub's `Link` header leads to the next page on the API's host; another host, a page
    already read or a header without `next` ends the listing or is refused."""
    page2 = f"{API}/orgs/o/repos?page=2"
    link = f'<{page2}>; rel="next", <{API}/orgs/o/repos?page=9>; rel="last"'
    assert answers.next_page(link, API, seen=set()) == page2
    assert answers.next_page(None, API, seen=set()) is None
    assert answers.next_page(f'<{page2}>; rel="prev"', API, seen=set()) is None
    with pytest.raises(BadAnswer, match="not on"):
        answers.next_page('<https://evil.example/x>; rel="next"', API, seen=set())
    with pytest.raises(BadAnswer, match="do not end"):
        answers.next_page(link, API, seen={page2})
