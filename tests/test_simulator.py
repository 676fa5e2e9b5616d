"""The simulated GitHub over real HTTP: shapes, traffic window, tokens, failures, pages."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import time
from typing import Any

import pytest
import requests
from github import Auth, Github

from tests.helpers.factories import StartGitHub
from traffic_sync.demo import Request, SimRepo, SimulatedGitHub, demo_world

TOKEN = "ghp_simulatorTestToken"
NOON = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)  # a Tuesday
F = NOON.date()

LIB = SimRepo(
    "Octo-Org/Lib", 1, dt.date(2025, 1, 1), stars=50, forks=7, watchers=4, open_issues=3, seed=2
)
WORLD = [
    LIB,
    SimRepo("Octo-Org/weekdays", 2, dt.date(2025, 1, 1), zero_weekdays=frozenset({5, 6})),
    SimRepo("Octo-Org/newborn", 3, F - dt.timedelta(days=5), daily_views=30),
    SimRepo("Octo-Org/quiet", 4, dt.date(2025, 1, 1), daily_views=0, daily_clones=0),
    SimRepo("Octo-Org/hostile", 5, dt.date(2025, 1, 1), seed=7),
    SimRepo("Octo-Org/old-fork", 6, dt.date(2024, 1, 1), fork=True, seed=2),
    SimRepo("octocat/secret", 7, dt.date(2025, 1, 1), private=True),
    SimRepo("octocat/public", 8, dt.date(2025, 1, 1)),
    SimRepo("someone/theirs", 9, dt.date(2025, 1, 1)),
    SimRepo("someone/hidden", 10, dt.date(2025, 1, 1), private=True),
]

# `required` of GitHub's OpenAPI schemas (api.github.com.json, @octokit/openapi 23.0.2), copied
# so the suite runs from a plain clone.
REPO_BASE_REQUIRED = [
    "archive_url", "assignees_url", "blobs_url", "branches_url", "collaborators_url",
    "comments_url", "commits_url", "compare_url", "contents_url", "contributors_url",
    "deployments_url", "description", "downloads_url", "events_url", "fork", "forks_url",
    "full_name", "git_commits_url", "git_refs_url", "git_tags_url", "hooks_url", "html_url", "id",
    "node_id", "issue_comment_url", "issue_events_url", "issues_url", "keys_url", "labels_url",
    "languages_url", "merges_url", "milestones_url", "name", "notifications_url", "owner",
    "private", "pulls_url", "releases_url", "stargazers_url", "statuses_url", "subscribers_url",
    "subscription_url", "tags_url", "teams_url", "trees_url", "url",
]  # fmt: skip
MINIMAL_REPOSITORY_REQUIRED = REPO_BASE_REQUIRED
REPOSITORY_REQUIRED = [
    *REPO_BASE_REQUIRED,
    "clone_url", "default_branch", "forks", "forks_count", "git_url", "has_downloads",
    "has_issues", "has_projects", "has_wiki", "has_pages", "homepage", "language", "archived",
    "disabled", "mirror_url", "open_issues", "open_issues_count", "license", "pushed_at", "size",
    "ssh_url", "stargazers_count", "svn_url", "watchers", "watchers_count", "created_at",
    "updated_at",
]  # fmt: skip
FULL_REPOSITORY_REQUIRED = [
    *REPO_BASE_REQUIRED,
    "clone_url", "default_branch", "forks", "forks_count", "git_url", "has_issues",
    "has_projects", "has_wiki", "has_pages", "has_discussions", "homepage", "language",
    "archived", "disabled", "mirror_url", "open_issues", "open_issues_count", "license",
    "pushed_at", "size", "ssh_url", "stargazers_count", "svn_url", "watchers", "watchers_count",
    "created_at", "updated_at", "network_count", "subscribers_count",
]  # fmt: skip
SIMPLE_USER_REQUIRED = [
    "avatar_url", "events_url", "followers_url", "following_url", "gists_url", "gravatar_id",
    "html_url", "id", "node_id", "login", "organizations_url", "received_events_url", "repos_url",
    "site_admin", "starred_url", "subscriptions_url", "type", "url",
]  # fmt: skip
LICENSE_REQUIRED = ["key", "name", "url", "spdx_id", "node_id"]
VIEW_TRAFFIC_REQUIRED = ["uniques", "count", "views"]
CLONE_TRAFFIC_REQUIRED = ["uniques", "count", "clones"]
TRAFFIC_REQUIRED = ["timestamp", "uniques", "count"]
REFERRER_TRAFFIC_REQUIRED = ["referrer", "uniques", "count"]
CONTENT_TRAFFIC_REQUIRED = ["path", "title", "uniques", "count"]
RATE_LIMIT_OVERVIEW_REQUIRED = ["rate", "resources"]
RATE_LIMIT_RESOURCES_REQUIRED = ["core", "search"]
RATE_LIMIT_REQUIRED = ["limit", "remaining", "reset", "used"]
BASIC_ERROR_PROPERTIES = ["message", "documentation_url"]  # basic-error requires none


@pytest.fixture
def sim(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(WORLD, now=NOON, token=TOKEN, viewer="octocat", orgs=["octo-org"])


def get(
    sim: SimulatedGitHub, path: str, token: str | None = TOKEN, **params: Any
) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.get(sim.url + path, headers=headers, params=params, timeout=5)


def missing(body: dict[str, Any], required: list[str]) -> list[str]:
    return [key for key in required if key not in body]


def window(sim: SimulatedGitHub, full_name: str, metric: str = "views") -> dict[dt.date, Any]:
    answer = get(sim, f"/repos/{full_name}/traffic/{metric}", per="day").json()
    return {dt.date.fromisoformat(b["timestamp"][:10]): b for b in answer[metric]}


def day(back: int) -> dt.date:
    return F - dt.timedelta(days=back)


# --- the traffic window -------------------------------------------------------------------------


def test_window_after_midday_spans_f_minus_14_to_today(sim: SimulatedGitHub) -> None:
    """At 12:30 the buckets are F-14..F: today partial, F-14 truncated, the rest whole."""
    buckets = window(sim, "Octo-Org/Lib")
    assert sorted(buckets) == [day(back) for back in range(14, -1, -1)]
    for back in range(1, 14):
        truth = sim.true_traffic("Octo-Org/Lib", "views", day(back))
        assert (buckets[day(back)]["count"], buckets[day(back)]["uniques"]) == truth
    today = sim.true_traffic("Octo-Org/Lib", "views", F)
    assert buckets[F]["count"] == today[0] * 12 // 24
    left = sim.true_traffic("Octo-Org/Lib", "views", day(14))
    assert buckets[day(14)]["count"] == left[0] * 12 // 24


def test_yesterday_is_published_only_after_midday(sim: SimulatedGitHub) -> None:
    """Before 12:00 UTC F-1 is missing; today holds fewer hours, the left edge more."""
    sim.now = NOON.replace(hour=8)
    buckets = window(sim, "Octo-Org/Lib")
    assert day(1) not in buckets
    assert buckets[F]["count"] == sim.true_traffic("Octo-Org/Lib", "views", F)[0] * 8 // 24
    left = sim.true_traffic("Octo-Org/Lib", "views", day(14))[0]
    assert buckets[day(14)]["count"] == left * 16 // 24
    sim.now = NOON.replace(hour=12, minute=0)
    assert day(1) in window(sim, "Octo-Org/Lib")


def test_clock_moves_the_window_day_by_day(sim: SimulatedGitHub) -> None:
    """Advancing `now` a day shifts every bucket by a day."""
    sim.now = NOON + dt.timedelta(days=1)
    assert min(window(sim, "Octo-Org/Lib")) == day(13)
    assert max(window(sim, "Octo-Org/Lib")) == F + dt.timedelta(days=1)


def test_days_without_traffic_are_omitted(sim: SimulatedGitHub) -> None:
    """Zero weekdays have no bucket at all, and their truth is zero."""
    buckets = window(sim, "Octo-Org/weekdays")
    weekend = [day(back) for back in range(15) if day(back).weekday() in (5, 6)]
    assert weekend
    assert not set(weekend) & set(buckets)
    assert all(sim.true_traffic("Octo-Org/weekdays", "views", d) == (0, 0) for d in weekend)
    assert all(b["count"] > 0 for b in buckets.values())


def test_nothing_before_creation(sim: SimulatedGitHub) -> None:
    """A repo created five days ago has no bucket and no truth before its creation day."""
    buckets = window(sim, "Octo-Org/newborn")
    assert buckets
    assert min(buckets) >= day(5)
    assert sim.true_traffic("octo-org/newborn", "views", day(6)) == (0, 0)


def test_repo_without_traffic_answers_empty(sim: SimulatedGitHub) -> None:
    """No traffic at all: zero totals, no buckets, no referrers, no paths."""
    assert get(sim, "/repos/octo-org/quiet/traffic/views").json() == {
        "count": 0,
        "uniques": 0,
        "views": [],
    }
    assert get(sim, "/repos/octo-org/quiet/traffic/clones").json()["clones"] == []
    assert get(sim, "/repos/octo-org/quiet/traffic/popular/referrers").json() == []
    assert get(sim, "/repos/octo-org/quiet/traffic/popular/paths").json() == []


@pytest.mark.parametrize("metric", ["views", "clones"])
def test_window_totals_count_visitors_once(sim: SimulatedGitHub, metric: str) -> None:
    """Top-level count is the sum; uniques lies between the busiest day and the sum."""
    for hour in (3, 12, 23):
        sim.now = NOON.replace(hour=hour)
        answer = get(sim, f"/repos/Octo-Org/Lib/traffic/{metric}").json()
        daily = answer[metric]
        assert answer["count"] == sum(b["count"] for b in daily)
        assert max(b["uniques"] for b in daily) <= answer["uniques"]
        assert answer["uniques"] < sum(b["uniques"] for b in daily)
        assert all(0 < b["uniques"] <= b["count"] for b in daily)


def test_week_buckets_start_on_monday(sim: SimulatedGitHub) -> None:
    """per=week groups the same days into weeks that begin on Monday."""
    daily = get(sim, "/repos/Octo-Org/Lib/traffic/views", per="day").json()
    weekly = get(sim, "/repos/Octo-Org/Lib/traffic/views", per="week").json()
    assert weekly["count"] == daily["count"]
    stamps = [dt.date.fromisoformat(b["timestamp"][:10]) for b in weekly["views"]]
    assert all(d.weekday() == 0 for d in stamps)
    assert len(stamps) == 3


def test_truth_is_deterministic_and_near_the_mean() -> None:
    """The same repo gives the same truth anywhere; a year averages near daily_views."""
    year = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    with (
        SimulatedGitHub([LIB], now=NOON) as one,
        SimulatedGitHub([LIB, *WORLD[1:3]], now=NOON) as two,
    ):
        truths = [one.true_traffic("Octo-Org/Lib", "views", d) for d in year]
        assert truths == [two.true_traffic("octo-org/lib", "views", d) for d in year]
    assert all(0 <= u <= c for c, u in truths)
    assert 34 <= sum(c for c, _ in truths) / len(year) <= 46
    other_seed = SimulatedGitHub(
        [SimRepo("Octo-Org/Lib", 1, dt.date(2025, 1, 1), seed=3)], now=NOON
    )
    assert [other_seed.true_traffic("Octo-Org/Lib", "views", d) for d in year] != truths


# --- popular referrers and paths ----------------------------------------------------------------


def test_popular_lists_are_top_ten_by_count(sim: SimulatedGitHub) -> None:
    """Referrers and paths: at most 10, by count descending, uniques never above count."""
    for kind in ("referrers", "paths"):
        rows = get(sim, f"/repos/Octo-Org/Lib/traffic/popular/{kind}").json()
        assert 0 < len(rows) <= 10
        assert [r["count"] for r in rows] == sorted((r["count"] for r in rows), reverse=True)
        assert all(0 < r["uniques"] <= r["count"] for r in rows)


def test_popular_lists_change_by_day_not_by_hour(sim: SimulatedGitHub) -> None:
    """The same fetch day answers the same lists all day; the next day differs."""
    first = get(sim, "/repos/Octo-Org/Lib/traffic/popular/paths").json()
    sim.now = NOON.replace(hour=23)
    assert get(sim, "/repos/Octo-Org/Lib/traffic/popular/paths").json() == first
    sim.now = NOON + dt.timedelta(days=1)
    assert get(sim, "/repos/Octo-Org/Lib/traffic/popular/paths").json() != first


def test_hostile_title_only_for_odd_seeds(sim: SimulatedGitHub) -> None:
    """An odd seed adds a title that tries to break tables, links, HTML and workflow commands."""
    titles = [p["title"] for p in get(sim, "/repos/Octo-Org/hostile/traffic/popular/paths").json()]
    hostile = [t for t in titles if "::error::" in t]
    assert len(hostile) == 1
    for needle in ("|", "<script>", "[x](http://evil)", "\n"):
        assert needle in hostile[0]
    plain = get(sim, "/repos/Octo-Org/Lib/traffic/popular/paths").json()
    assert not any(re.search(r"[|<>\n\[]|::", p["title"] + p["path"]) for p in plain)
    assert all(p["path"].startswith("/Octo-Org/Lib") for p in plain)


# --- repositories and accounts ------------------------------------------------------------------


def test_repo_lookup_is_case_insensitive_and_canonical(sim: SimulatedGitHub) -> None:
    """GET /repos/{o}/{r} in any case answers the canonical name and the repo's counters."""
    body = get(sim, "/repos/octo-org/LIB").json()
    assert body["full_name"] == "Octo-Org/Lib"
    assert (body["name"], body["id"], body["owner"]["login"]) == ("Lib", 1, "Octo-Org")
    assert body["owner"]["type"] == "Organization"
    assert body["stargazers_count"] == body["watchers_count"] == 50
    assert (body["subscribers_count"], body["forks_count"], body["open_issues_count"]) == (4, 7, 3)
    assert (body["private"], body["visibility"], body["fork"], body["archived"]) == (
        False,
        "public",
        False,
        False,
    )
    assert body["created_at"] == "2025-01-01T10:00:00Z"
    assert body["html_url"] == "https://github.com/Octo-Org/Lib"
    assert body["url"] == f"{sim.url}/repos/Octo-Org/Lib"
    assert "parent" not in body


def test_full_repository_has_every_required_property(sim: SimulatedGitHub) -> None:
    """The full-repository answer carries all that GitHub's schema requires, nested ones too."""
    for name in ("Octo-Org/Lib", "octocat/secret", "Octo-Org/old-fork"):
        body = get(sim, f"/repos/{name}").json()
        assert missing(body, FULL_REPOSITORY_REQUIRED) == []
        assert missing(body["owner"], SIMPLE_USER_REQUIRED) == []
        assert missing(body["license"], LICENSE_REQUIRED) == []
    private = get(sim, "/repos/octocat/secret").json()
    assert (private["private"], private["visibility"]) == (True, "private")
    assert "organization" not in private
    fork = get(sim, "/repos/Octo-Org/old-fork").json()
    assert fork["fork"] is True
    assert missing(fork["parent"], REPOSITORY_REQUIRED) == []
    assert missing(fork["organization"], SIMPLE_USER_REQUIRED) == []


def test_unknown_repo_is_not_found(sim: SimulatedGitHub) -> None:
    """An unknown repo answers 404 in GitHub's error shape."""
    answer = get(sim, "/repos/octo-org/nope")
    assert answer.status_code == 404
    assert answer.json()["message"] == "Not Found"
    assert missing(answer.json(), BASIC_ERROR_PROPERTIES) == []
    assert get(sim, "/repos/octo-org/nope/traffic/views").status_code == 404
    assert get(sim, "/no/such/route").status_code == 404


def test_accounts_say_user_or_organization(sim: SimulatedGitHub) -> None:
    """/users/{login} types orgs and users; /user is the viewer; unknown logins are 404."""
    org = get(sim, "/users/OCTO-ORG").json()
    assert (org["login"], org["type"]) == ("Octo-Org", "Organization")
    assert org["url"] == f"{sim.url}/users/Octo-Org"
    assert get(sim, "/users/someone").json()["type"] == "User"  # a repo owner not listed as org
    assert get(sim, "/users/nobody-here").status_code == 404
    viewer = get(sim, "/user").json()
    assert (viewer["login"], viewer["type"]) == ("octocat", "User")
    for body in (org, viewer):
        assert missing(body, SIMPLE_USER_REQUIRED) == []
    assert get(sim, "/orgs/octo-org").json()["login"] == "Octo-Org"
    assert get(sim, "/orgs/someone").status_code == 404


# --- listings -----------------------------------------------------------------------------------


def test_listings_show_what_each_endpoint_shows(sim: SimulatedGitHub) -> None:
    """Org repos: all; the viewer's own: private too; another user's: public only."""

    def names(path: str, **params: Any) -> list[str]:
        return sorted(r["full_name"] for r in get(sim, path, **params).json())

    assert names("/orgs/octo-org/repos", type="all") == sorted(
        r.full_name for r in WORLD if r.owner == "Octo-Org"
    )
    assert names("/orgs/octo-org/repos", type="forks") == ["Octo-Org/old-fork"]
    assert names("/user/repos", affiliation="owner") == ["octocat/public", "octocat/secret"]
    assert names("/users/someone/repos") == ["someone/theirs"]
    assert get(sim, "/orgs/nobody-here/repos").status_code == 404


def test_listing_defaults_and_unknown_owners(sim: SimulatedGitHub) -> None:
    """/user/repos defaults to owned and org repos; a bad per_page is 30; unknown users 404."""
    default = [r["full_name"] for r in get(sim, "/user/repos", per_page="lots").json()]
    assert len(default) == 8
    assert "someone/theirs" not in default
    assert get(sim, "/user/repos", visibility="private").json()[0]["full_name"] == "octocat/secret"
    assert get(sim, "/users/nobody-here/repos").status_code == 404


def test_github_token_cannot_act_as_a_user(sim: SimulatedGitHub) -> None:
    """GITHUB_TOKEN is an integration: /user and /user/repos answer 403."""
    sim.grant("ghs_workflow", "github-token")
    for path in ("/user", "/user/repos"):
        answer = get(sim, path, token="ghs_workflow")
        assert answer.status_code == 403
        assert answer.json()["message"] == "Resource not accessible by integration"


def test_listing_items_have_the_listing_shape(sim: SimulatedGitHub) -> None:
    """Items hold every required property, and never subscribers_count (listings lack it)."""
    org_items = get(sim, "/orgs/octo-org/repos").json()
    user_items = get(sim, "/users/someone/repos").json()
    for item in org_items + user_items:
        assert missing(item, MINIMAL_REPOSITORY_REQUIRED) == []
    for item in get(sim, "/user/repos", affiliation="owner").json():
        assert missing(item, REPOSITORY_REQUIRED) == []
    for item in org_items + user_items:
        assert "subscribers_count" not in item
        assert missing(item["owner"], SIMPLE_USER_REQUIRED) == []


def test_pagination_links_walk_every_page() -> None:
    """per_page caps at 100; Link says next/last, then prev/first; following it reaches all."""
    many = [SimRepo(f"big-org/repo-{i:03}", 1000 + i, dt.date(2025, 1, 1)) for i in range(250)]
    with SimulatedGitHub(many, now=NOON, token=TOKEN, orgs=["big-org"]) as sim:
        first = get(sim, "/orgs/big-org/repos", type="all", per_page=500)
        assert len(first.json()) == 100
        assert first.links["next"]["url"] == (
            f"{sim.url}/orgs/big-org/repos?type=all&per_page=500&page=2"
        )
        assert first.links["last"]["url"].endswith("page=3")
        assert "prev" not in first.links
        middle = requests.get(first.links["next"]["url"], headers=auth(), timeout=5)
        assert set(middle.links) == {"next", "last", "prev", "first"}
        last = requests.get(middle.links["next"]["url"], headers=auth(), timeout=5)
        assert set(last.links) == {"prev", "first"}
        seen = {r["id"] for page in (first, middle, last) for r in page.json()}
        assert len(seen) == 250
        assert len(get(sim, "/orgs/big-org/repos").json()) == 30  # GitHub's default page size


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


# --- tokens -------------------------------------------------------------------------------------


def test_missing_or_unknown_token_is_bad_credentials(sim: SimulatedGitHub) -> None:
    """No token, an unknown one or one granted as "bad" get 401 Bad credentials."""
    sim.grant("ghp_revoked", "bad")
    for token in (None, "ghp_unknown", "ghp_revoked"):
        answer = get(sim, "/repos/Octo-Org/Lib", token=token)
        assert answer.status_code == 401
        assert answer.json()["message"] == "Bad credentials"
        assert answer.json()["status"] == "401"
        assert answer.json()["documentation_url"].startswith("https://docs.github.com/")


def test_bearer_scheme_is_accepted(sim: SimulatedGitHub) -> None:
    """Both `token X` and `Bearer X` authenticate."""
    answer = requests.get(f"{sim.url}/repos/Octo-Org/Lib", headers=auth(), timeout=5)
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("github-token", "Resource not accessible by integration"),
        ("no-push", "Must have push access to repository"),
    ],
)
def test_tokens_that_cannot_read_traffic(sim: SimulatedGitHub, kind: Any, message: str) -> None:
    """GITHUB_TOKEN and PATs without push access see the repo but get 403 on all four traffic
    endpoints."""
    sim.grant("ghs_other", kind)
    assert get(sim, "/repos/Octo-Org/Lib", token="ghs_other").status_code == 200
    for endpoint in ("views", "clones", "popular/referrers", "popular/paths"):
        answer = get(sim, f"/repos/Octo-Org/Lib/traffic/{endpoint}", token="ghs_other")
        assert answer.status_code == 403
        assert answer.json()["message"] == message
    assert get(sim, "/repos/Octo-Org/nope/traffic/views", token="ghs_other").status_code == 404


def test_main_token_sees_private_repos(sim: SimulatedGitHub) -> None:
    """The main token reads a private repo and its traffic."""
    assert get(sim, "/repos/someone/hidden").json()["private"] is True
    assert get(sim, "/repos/someone/hidden/traffic/views").status_code == 200


# --- enabling a workflow ------------------------------------------------------------------------

ENABLE = "/repos/Octo-Org/Lib/actions/workflows/traffic.yml/enable"


def put(sim: SimulatedGitHub, path: str, token: str = TOKEN) -> requests.Response:
    return requests.put(sim.url + path, headers={"Authorization": f"token {token}"}, timeout=5)


def test_enable_workflow_answers_204_without_body_and_activates_it(sim: SimulatedGitHub) -> None:
    """PUT .../enable: 204 with an empty body; the workflow is active again; the call is logged."""
    sim.add_workflow("octo-org/lib", "traffic.yml", state="disabled_inactivity")
    answer = put(sim, ENABLE)
    assert (answer.status_code, answer.content) == (204, b"")
    assert sim.workflow_state("Octo-Org/Lib", "traffic.yml") == "active"
    assert sim.requests == [Request("PUT", ENABLE, {})]


def test_enable_needs_actions_write(sim: SimulatedGitHub) -> None:
    """A GITHUB_TOKEN without actions write gets GitHub's 403; with it, 204."""
    sim.add_workflow("Octo-Org/Lib", "traffic.yml", state="disabled_inactivity")
    sim.grant("ghs_contents_only", "github-token")
    sim.grant("ghs_actions_write", "github-token", actions_write=True)
    denied = put(sim, ENABLE, token="ghs_contents_only")
    assert denied.status_code == 403
    assert denied.json()["message"] == "Resource not accessible by integration"
    assert denied.json()["documentation_url"].endswith("#enable-a-workflow")
    assert sim.workflow_state("Octo-Org/Lib", "traffic.yml") == "disabled_inactivity"
    assert put(sim, ENABLE, token="ghs_actions_write").status_code == 204


def test_enable_refuses_a_pat_without_write_access(sim: SimulatedGitHub) -> None:
    """A PAT whose user cannot write to the repo gets 403; grant() can take the right away."""
    sim.add_workflow("Octo-Org/Lib", "traffic.yml")
    sim.grant("ghp_reader", "no-push")
    sim.grant("ghp_fine_grained", "pat", actions_write=False)
    assert put(sim, ENABLE, token="ghp_reader").status_code == 403
    assert put(sim, ENABLE, token="ghp_fine_grained").status_code == 403


def test_enable_unknown_workflow_or_repo_is_not_found(sim: SimulatedGitHub) -> None:
    """An unknown workflow file or repo answers 404 Not Found."""
    sim.add_workflow("Octo-Org/Lib", "traffic.yml")
    for path in (
        "/repos/Octo-Org/Lib/actions/workflows/other.yml/enable",
        "/repos/Octo-Org/nope/actions/workflows/traffic.yml/enable",
    ):
        answer = put(sim, path)
        assert (answer.status_code, answer.json()["message"]) == (404, "Not Found")


# --- failures, rate limits, the request log -----------------------------------------------------


def test_fail_answers_then_recovers(sim: SimulatedGitHub) -> None:
    """fail() answers the next `times` matching requests, others are untouched."""
    sim.fail(r"/traffic/views$", 502, times=2)
    assert get(sim, "/repos/Octo-Org/Lib/traffic/clones").status_code == 200
    answers = [get(sim, "/repos/Octo-Org/Lib/traffic/views") for _ in range(3)]
    assert [a.status_code for a in answers] == [502, 502, 200]
    assert answers[0].json()["message"] == "Bad Gateway"
    assert missing(answers[0].json(), BASIC_ERROR_PROPERTIES) == []


def test_clear_failures_forgets_answers_not_given(sim: SimulatedGitHub) -> None:
    """clear_failures() drops the injected answers still pending."""
    sim.fail(r"/traffic/views$", 502, times=2)
    assert get(sim, "/repos/Octo-Org/Lib/traffic/views").status_code == 502
    sim.clear_failures()
    assert get(sim, "/repos/Octo-Org/Lib/traffic/views").status_code == 200


def test_fail_with_primary_rate_limit_headers(sim: SimulatedGitHub) -> None:
    """Injected headers replace GitHub's own: remaining 0 and the given reset."""
    reset = str(int(time.time()) + 3600)
    sim.fail(
        r"/repos/[^/]+/[^/]+$",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        message="API rate limit exceeded for user ID 1.",
    )
    answer = get(sim, "/repos/Octo-Org/Lib")
    assert answer.status_code == 403
    assert answer.headers["x-ratelimit-remaining"] == "0"
    assert answer.headers["x-ratelimit-reset"] == reset
    assert answer.json()["message"] == "API rate limit exceeded for user ID 1."
    assert "rate-limits" in answer.json()["documentation_url"]


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (429, {"retry-after": "1"}, ""),
        (403, {}, "You have exceeded a secondary rate limit. Please wait a few minutes."),
    ],
)
def test_fail_with_secondary_limits(
    sim: SimulatedGitHub, status: int, headers: dict[str, str], message: str
) -> None:
    """429 with Retry-After and the 403 secondary-limit message come back as given."""
    sim.fail(r"/traffic/clones$", status, headers=headers, message=message)
    answer = get(sim, "/repos/Octo-Org/Lib/traffic/clones")
    assert answer.status_code == status
    for name, value in headers.items():
        assert answer.headers[name] == value
    assert answer.json()["message"] == (message or "Too Many Requests")


def test_fail_with_delay_is_a_slow_answer(sim: SimulatedGitHub) -> None:
    """A delay longer than the client's timeout times out; the server keeps serving."""
    sim.fail(r"/traffic/popular/paths$", 200, delay=1.0)
    with pytest.raises(requests.Timeout):
        requests.get(
            f"{sim.url}/repos/Octo-Org/Lib/traffic/popular/paths", headers=auth(), timeout=0.2
        )
    assert get(sim, "/repos/Octo-Org/Lib/traffic/popular/paths").status_code == 200


def test_fail_can_send_any_answer(sim: SimulatedGitHub) -> None:
    """Any status, headers (Content-Length too) and body bytes; GitHub's headers stay unless
    replaced; the next request is answered as usual."""
    path = "/repos/Octo-Org/Lib/traffic/views"
    sim.fail(f"^{path}$", 299, body=b"<html>", headers={"Content-Type": "text/html"})
    answer = get(sim, path)
    assert (answer.status_code, answer.content) == (299, b"<html>")
    assert answer.headers["Content-Type"] == "text/html"
    assert answer.headers["x-ratelimit-resource"] == "core"
    assert get(sim, path).json()["views"]


def test_fail_can_cut_or_trickle_a_body(sim: SimulatedGitHub) -> None:
    """`cut` drops the connection after that many bytes of the full length announced; `rate`
    sends the body that many bytes a second."""
    path = "/repos/Octo-Org/Lib/traffic/clones"
    sim.fail(f"^{path}$", 200, body=b'{"count": 1234567}', cut=5)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # the body ended early
        get(sim, path)
    sim.fail(f"^{path}$", 200, body=b"0123456789", rate=20)
    started = time.monotonic()
    assert get(sim, path).content == b"0123456789"
    assert 0.4 < time.monotonic() - started < 2


def test_rate_limit_counts_requests_but_not_itself(sim: SimulatedGitHub) -> None:
    """core.remaining is 5000 minus the requests served; /rate_limit is free."""
    for _ in range(3):
        get(sim, "/repos/Octo-Org/Lib")
    body = get(sim, "/rate_limit").json()
    body = get(sim, "/rate_limit").json()
    assert missing(body, RATE_LIMIT_OVERVIEW_REQUIRED) == []
    assert missing(body["resources"], RATE_LIMIT_RESOURCES_REQUIRED) == []
    for limit in (body["rate"], *body["resources"].values()):
        assert missing(limit, RATE_LIMIT_REQUIRED) == []
    core = body["resources"]["core"]
    assert (core["limit"], core["used"], core["remaining"]) == (5000, 3, 4997)
    assert core["reset"] == int(NOON.timestamp()) + 3600
    assert body["rate"] == core


def test_every_answer_has_github_headers(sim: SimulatedGitHub) -> None:
    """JSON content type and x-ratelimit-* on successes and errors alike."""
    for answer in (
        get(sim, "/repos/Octo-Org/Lib"),
        get(sim, "/repos/x/y"),
        get(sim, "/user", None),
    ):
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        assert answer.headers["x-ratelimit-limit"] == "5000"
        assert answer.headers["x-ratelimit-resource"] == "core"
        assert {"x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used"} <= set(
            answer.headers
        )
    assert get(sim, "/user").headers["x-ratelimit-remaining"] == "4996"


def test_request_log_records_method_path_and_query(sim: SimulatedGitHub) -> None:
    """Every request is logged as sent, the query split off the path."""
    get(sim, "/repos/octo-org/lib/traffic/views", per="day")
    get(sim, "/rate_limit")
    assert sim.requests == [
        Request("GET", "/repos/octo-org/lib/traffic/views", {"per": "day"}),
        Request("GET", "/rate_limit", {}),
    ]


def test_only_reads_are_served(sim: SimulatedGitHub) -> None:
    """A write other than enabling a workflow is not part of the simulated GitHub: 404."""
    answer = requests.post(f"{sim.url}/repos/Octo-Org/Lib", headers=auth(), timeout=5)
    assert answer.status_code == 404


def test_one_connection_serves_request_after_request(sim: SimulatedGitHub) -> None:
    """Like api.github.com, a connection stays open: a POST with a body, then GETs, on one."""
    host, port = sim.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("POST", "/repos/Octo-Org/Lib", body=b'{"a": 1}', headers=auth())
        refused = connection.getresponse()
        assert (refused.status, json.loads(refused.read())["message"]) == (404, "Not Found")
        first = connection.sock
        for path in ("/repos/Octo-Org/Lib", "/repos/Octo-Org/Lib/traffic/views"):
            connection.request("GET", path, headers=auth())
            answer = connection.getresponse()
            assert (answer.status, answer.version, answer.will_close) == (200, 11, False)
            assert json.loads(answer.read())
            assert connection.sock is first
    finally:
        connection.close()
    assert [r.path for r in sim.requests] == [
        "/repos/Octo-Org/Lib",
        "/repos/Octo-Org/Lib",
        "/repos/Octo-Org/Lib/traffic/views",
    ]


def test_server_is_quiet_and_stops(capfd: pytest.CaptureFixture[str]) -> None:
    """Nothing is printed per request, and after stop() the port refuses connections."""
    sim = SimulatedGitHub(WORLD, now=NOON, token=TOKEN)
    url = sim.start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    get(sim, "/repos/Octo-Org/Lib")
    get(sim, "/repos/x/y")
    sim.stop()
    sim.stop()  # stopping twice is harmless
    assert capfd.readouterr() == ("", "")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/rate_limit", timeout=2)


# --- PyGithub against the simulator -------------------------------------------------------------


def client(sim: SimulatedGitHub) -> Github:
    return Github(
        base_url=sim.url, auth=Auth.Token(TOKEN), per_page=100, seconds_between_requests=0
    )


def test_pygithub_parses_repo_and_traffic(sim: SimulatedGitHub) -> None:
    """PyGithub reads the repo, both traffic series and the popular lists."""
    repo = client(sim).get_repo("octo-org/lib")
    assert (repo.full_name, repo.subscribers_count, repo.stargazers_count) == (
        "Octo-Org/Lib",
        4,
        50,
    )
    assert repo.created_at == dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC)
    views = repo.get_views_traffic(per="day")
    assert views is not None
    assert views.count == sum(v.count for v in views.views)
    assert views.views[-1].timestamp == dt.datetime.combine(F, dt.time(), tzinfo=dt.UTC)
    clones = repo.get_clones_traffic(per="day")
    assert clones is not None
    assert clones.clones
    referrers, paths = repo.get_top_referrers(), repo.get_top_paths()
    assert referrers is not None
    assert paths is not None
    assert referrers[0].count > 0
    assert paths[0].path == "/Octo-Org/Lib"
    assert sim.requests[-1].path == "/repos/Octo-Org/Lib/traffic/popular/paths"


def test_pygithub_paginates_a_big_account() -> None:
    """get_user(org).get_repos() with per_page=100 walks 3 pages for 205 repos."""
    many = [SimRepo(f"Big-Org/r{i:03}", 1000 + i, dt.date(2025, 1, 1)) for i in range(205)]
    with SimulatedGitHub(many, now=NOON, token=TOKEN, orgs=["big-org"]) as sim:
        github = client(sim)
        account = github.get_user("big-org")
        assert account.type == "Organization"
        names = [repo.full_name for repo in account.get_repos()]
        assert len(set(names)) == 205
        listed = [r for r in sim.requests if r.path == "/users/Big-Org/repos"]
        assert [r.query.get("page", "1") for r in listed] == ["1", "2", "3"]
        org_repos = github.get_organization("big-org").get_repos(type="all")
        assert len(list(org_repos)) == 205


# --- the demo world -----------------------------------------------------------------------------


def test_demo_world_has_every_kind_of_repo() -> None:
    """Two owners; a busy repo, a zero-weekday tool, a newborn, a fork or archive, a private."""
    today = dt.date(2026, 3, 10)
    world = demo_world(today)
    assert 4 <= len(world) <= 5
    assert len({r.owner for r in world}) == 2
    assert len({r.full_name.lower() for r in world}) == len({r.id for r in world}) == len(world)
    assert max(r.daily_views for r in world) >= 100
    assert any(r.zero_weekdays for r in world)
    assert any(today - dt.timedelta(days=7) < r.created < today for r in world)
    assert any(r.fork or r.archived for r in world)
    private = [r for r in world if r.private]
    assert private
    assert private[0].owner == min(r.owner for r in world)  # the demo's viewer sees it
    assert all(r.seed % 2 == 0 for r in world)  # plain titles in the demo
