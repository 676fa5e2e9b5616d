"""The simulated GitHub's REST answers: its routes, endpoints and JSON shapes.

Each endpoint reads the world (`world.SimWorld`) and answers in GitHub's own JSON shapes (the
examples of GitHub's OpenAPI description, kept in `simdata/`, with the names and host
rewritten), with GitHub's paging `Link` headers, 301s for renamed repos, error shape and
`x-ratelimit-*` headers. The one write it serves is re-enabling a workflow. Tokens are answered
as GitHub answers them (see `SimWorld.grant`). https://docs.github.com/rest
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import json
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from urllib.parse import unquote, urlencode

from traffic_sync.core.growth import week_start
from traffic_sync.demo.traffic import (
    Json,
    Metric,
    SimRepo,
    description,
    popular_paths,
    popular_referrers,
    traffic_window,
)
from traffic_sync.demo.world import SimWorld, TokenKind

PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 100
DOCS = "https://docs.github.com/rest"
TRAFFIC_DOCS = f"{DOCS}/metrics/traffic"
ENABLE_DOCS = f"{DOCS}/actions/workflows#enable-a-workflow"
RATE_DOCS = f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api"

_REPO_PATH = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer before it is sent: its status, JSON body and headers of its own."""

    status: int
    body: Json
    headers: dict[str, str] = field(default_factory=dict)


_Route = tuple[re.Pattern[str], Callable[..., Answer]]

# --- JSON shapes, from GitHub's OpenAPI examples ------------------------------------------------


@cache
def _template(name: str) -> Json:
    text = (
        resources.files("traffic_sync.demo").joinpath("simdata", f"{name}.json").read_text("utf-8")
    )
    return json.loads(text)


def _rewrite(value: Json, mapping: Mapping[str, str]) -> Json:
    """Every string of `value` with the example's names and host replaced, in one pass."""
    pattern = re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))

    def walk(node: Json) -> Json:
        if isinstance(node, str):
            return pattern.sub(lambda m: mapping[m.group(0)], node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(item) for key, item in node.items()}
        return node

    return walk(value)


def _example_names(api: str, full_name: str) -> dict[str, str]:
    owner = full_name.split("/", 1)[0]
    return {
        "https://api.github.com/repos/octocat/Hello-World": f"{api}/repos/{full_name}",
        "https://api.github.com/users/octocat": f"{api}/users/{owner}",
        "https://github.com/octocat/Hello-World": f"https://github.com/{full_name}",
        "https://github.com/octocat": f"https://github.com/{owner}",
        "https://api.github.com": api,
        "octocat/Hello-World": full_name,
    }


def _account_id(login: str) -> int:
    return 100_000 + zlib.crc32(login.lower().encode()) % 90_000_000


def _node_id(prefix: str, number: int) -> str:
    return base64.b64encode(f"{prefix}{number}".encode()).decode()


def stamp(day: dt.date) -> str:
    """A day as the timestamps of the shapes give it (a fixed time of day)."""
    return f"{day.isoformat()}T10:00:00Z"


# --- the endpoints ------------------------------------------------------------------------------


class RestApi:
    """GitHub's REST endpoints over one world: `answer` routes a request to its endpoint."""

    def __init__(self, world: SimWorld) -> None:
        self.world = world

    def answer(
        self, method: str, path: str, query: dict[str, str], token: str, kind: TokenKind
    ) -> Answer:
        """The answer to an authenticated REST request: GET routes, the one PUT, else 404."""
        if method == "PUT":
            return self._route(path, query, kind, self._put_routes(token))
        if method != "GET":
            return error(404, "Not Found", DOCS)
        return self._route(path, query, kind, self._routes())

    def _route(
        self, path: str, query: dict[str, str], kind: TokenKind, routes: Iterator[_Route]
    ) -> Answer:
        moved = self._redirect(path)
        if moved is not None:
            return moved
        for pattern, handler in routes:
            match = pattern.fullmatch(path)
            if match:
                args = {k: unquote(v) for k, v in match.groupdict().items()}
                return handler(query, kind, **args)
        return error(404, "Not Found", DOCS)

    def _routes(self) -> Iterator[_Route]:
        repo = _REPO_PATH
        yield re.compile(r"/rate_limit"), self._get_rate_limit
        yield re.compile(r"/user"), self._get_viewer
        yield re.compile(r"/user/repos"), self._list_viewer_repos
        yield re.compile(r"/users/(?P<login>[^/]+)"), self._get_account
        yield re.compile(r"/users/(?P<login>[^/]+)/repos"), self._list_user_repos
        yield re.compile(r"/orgs/(?P<org>[^/]+)"), self._get_org
        yield re.compile(r"/orgs/(?P<org>[^/]+)/repos"), self._list_org_repos
        yield re.compile(repo), self._get_repo
        yield re.compile(r"/repositories/(?P<number>[0-9]+)"), self._get_repo_by_id
        yield re.compile(repo + r"/traffic/(?P<metric>views|clones)"), self._get_traffic
        yield re.compile(repo + r"/traffic/popular/(?P<popular>referrers|paths)"), self._get_popular
        yield re.compile(repo + r"/releases"), self._list_releases
        yield re.compile(repo + r"/stargazers/history"), self._star_history

    def _put_routes(self, token: str) -> Iterator[_Route]:
        enable = functools.partial(
            self._enable_workflow, actions_write=token in self.world.actions_writers
        )
        yield re.compile(_REPO_PATH + r"/actions/workflows/(?P<workflow>[^/]+)/enable"), enable

    # endpoints

    def _get_rate_limit(self, query: dict[str, str], kind: TokenKind) -> Answer:
        body = copy.deepcopy(_template("rate-limit-overview"))
        reset = self.world.reset_epoch()
        for bucket in body["resources"].values():
            bucket.update(used=0, remaining=bucket["limit"], reset=reset)
        used = min(self.world.served, self.world.rate_limit)
        core = {
            "limit": self.world.rate_limit,
            "used": used,
            "remaining": max(0, self.world.rate_limit - used),
            "reset": reset,
        }
        body["resources"]["core"] = core
        body["rate"] = dict(core)
        used_points = max((used for _, used in self.world.points.values()), default=0)
        body["resources"]["graphql"].update(
            limit=self.world.graphql_points,
            used=used_points,
            remaining=max(0, self.world.graphql_points - used_points),
        )
        return Answer(200, body)

    def _get_repo(self, query: dict[str, str], kind: TokenKind, owner: str, name: str) -> Answer:
        repo = self.world.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            return error(404, "Not Found", f"{DOCS}/repos/repos#get-a-repository")
        return Answer(200, self._full_repository(repo, kind))

    def _redirect(self, path: str) -> Answer | None:
        """A renamed or transferred repo's old name: GitHub's 301 to the repo by id.
        https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api#follow-redirects
        """
        match = re.fullmatch(r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?", path)
        if match is None:
            return None
        number = self.world.moved.get(f"{unquote(match['owner'])}/{unquote(match['name'])}".lower())
        if number is None:
            return None
        location = f"{self.world.url}/repositories/{number}{match['rest'] or ''}"
        body = {"message": "Moved Permanently", "url": location, "documentation_url": DOCS}
        return Answer(301, body, {"Location": location})

    def _get_repo_by_id(self, query: dict[str, str], kind: TokenKind, number: str) -> Answer:
        repo = next((r for r in self.world.repos.values() if r.id == int(number)), None)
        if repo is None:
            return error(404, "Not Found", f"{DOCS}/repos/repos#get-a-repository")
        return Answer(200, self._full_repository(repo, kind))

    def _get_traffic(
        self, query: dict[str, str], kind: TokenKind, owner: str, name: str, metric: Metric
    ) -> Answer:
        docs = f"{TRAFFIC_DOCS}#get-{'page-views' if metric == 'views' else 'repository-clones'}"
        repo, denied = self._traffic_access(owner, name, kind, docs)
        if repo is None:
            return denied
        return Answer(200, traffic_window(repo, metric, self.world.now, query.get("per", "day")))

    def _get_popular(
        self, query: dict[str, str], kind: TokenKind, owner: str, name: str, popular: str
    ) -> Answer:
        top = f"{TRAFFIC_DOCS}#get-top-referral-{'sources' if popular == 'referrers' else 'paths'}"
        repo, denied = self._traffic_access(owner, name, kind, top)
        if repo is None:
            return denied
        answer = popular_referrers if popular == "referrers" else popular_paths
        return Answer(200, answer(repo, self.world.now.date()))

    def _star_history(
        self, query: dict[str, str], kind: TokenKind, owner: str, name: str
    ) -> Answer:
        """`GET /repos/{o}/{r}/stargazers/history`: the stars still given, counted by the UTC
        day they were given, a week an item (its Sunday in epoch seconds, `total`, seven
        `days`), newest first from this week back to the week of the repo's creation;
        `per_page` up to 30, `page` up to 100."""
        docs = f"{DOCS}/activity/starring#get-the-star-history-of-a-repository"
        repo = self.world.repos.get(f"{owner}/{name}".lower())
        if repo is None or (repo.private and kind == "github-token"):
            return error(404, "Not Found", docs)
        try:
            per_page = min(30, max(1, int(query.get("per_page", "30"))))
            page = int(query.get("page", "1"))
        except ValueError:
            return error(422, "Validation Failed", docs)
        if not 1 <= page <= 100:
            return error(422, "Validation Failed", docs)
        with self.world.lock:
            days = Counter(when.date() for when, _ in self.world.timeline_of(repo, "stars"))
        today = self.world.now.date()
        newest, oldest = week_start(today), week_start(repo.created)
        weeks = []
        for index in range((page - 1) * per_page, page * per_page):
            start = newest - dt.timedelta(weeks=index)
            if start < oldest:
                break
            counts = [days.get(start + dt.timedelta(days=d), 0) for d in range(7)]
            midnight = dt.datetime.combine(start, dt.time(), dt.UTC)
            weeks.append({"week": int(midnight.timestamp()), "total": sum(counts), "days": counts})
        return Answer(200, weeks)

    def _list_releases(
        self, query: dict[str, str], kind: TokenKind, owner: str, name: str
    ) -> Answer:
        """`GET /repos/{o}/{r}/releases`: newest first, paged, each with its assets.
        https://docs.github.com/rest/releases/releases#list-releases"""
        repo = self.world.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            return error(404, "Not Found", f"{DOCS}/releases/releases#list-releases")
        with self.world.lock:
            assets = self.world.assets_now(repo)
        tags: dict[str, list[tuple[str, int]]] = {}
        for (tag, asset), count in sorted(assets.items()):
            tags.setdefault(tag, []).append((asset, count))
        names = _example_names(self.world.url, repo.full_name)
        bodies = []
        for number, tag in enumerate(sorted(tags, reverse=True), start=1):
            body = _rewrite(copy.deepcopy(_template("release")), names)
            template_asset = body["assets"][0]
            release_id = repo.id * 1000 + number
            body.update(
                id=release_id,
                node_id=_node_id("07:Release", release_id),
                tag_name=tag,
                name=tag,
                url=f"{self.world.url}/repos/{repo.full_name}/releases/{release_id}",
                html_url=f"https://github.com/{repo.full_name}/releases/{tag}",
            )
            body["assets"] = [
                {
                    **template_asset,
                    "id": release_id * 100 + index,
                    "name": asset,
                    "download_count": count,
                    "browser_download_url": f"https://github.com/{repo.full_name}/releases/"
                    f"download/{tag}/{asset}",
                }
                for index, (asset, count) in enumerate(tags[tag])
            ]
            bodies.append(body)
        path = f"/repos/{repo.full_name}/releases"
        per_page = min(PER_PAGE_MAX, max(1, _int(query.get("per_page"), PER_PAGE_DEFAULT)))
        page = max(1, _int(query.get("page"), 1))
        last = max(1, -(-len(bodies) // per_page))
        header = ""
        if page < last:
            url = f"{self.world.url}{path}"
            header = (
                f'<{url}?{urlencode({**query, "page": str(page + 1)})}>; rel="next", '
                f'<{url}?{urlencode({**query, "page": str(last)})}>; rel="last"'
            )
        items = bodies[(page - 1) * per_page : page * per_page]
        return Answer(200, items, {"Link": header} if header else {})

    def _enable_workflow(
        self,
        query: dict[str, str],
        kind: TokenKind,
        owner: str,
        name: str,
        workflow: str,
        *,
        actions_write: bool,
    ) -> Answer:
        """`PUT .../actions/workflows/{file}/enable`: 204 without a body, the workflow active.

        A token without actions write gets 403 before the workflow is looked up.
        """
        full_name = f"{owner}/{name}".lower()
        if full_name not in self.world.repos:
            return error(404, "Not Found", ENABLE_DOCS)
        if not actions_write:
            if kind == "no-push":
                return error(403, "Must have admin rights to Repository.", ENABLE_DOCS)
            return error(403, "Resource not accessible by integration", ENABLE_DOCS)
        with self.world.lock:
            workflows = self.world.workflows.get(full_name, {})
            if workflow not in workflows:
                return error(404, "Not Found", ENABLE_DOCS)
            workflows[workflow] = "active"
        return Answer(204, None)

    def _traffic_access(
        self, owner: str, name: str, kind: TokenKind, docs: str
    ) -> tuple[SimRepo | None, Answer]:
        """The repo, or the answer GitHub gives this token: 404 first, then 403 by token kind."""
        repo = self.world.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            return None, error(404, "Not Found", docs)
        if kind == "github-token":
            return None, error(403, "Resource not accessible by integration", docs)
        if kind == "no-push" or not repo.push:
            return None, error(403, "Must have push access to repository", docs)
        return repo, Answer(200, None)

    def _get_viewer(self, query: dict[str, str], kind: TokenKind) -> Answer:
        if kind == "github-token":
            docs = f"{DOCS}/users/users#get-the-authenticated-user"
            return error(403, "Resource not accessible by integration", docs)
        return Answer(200, self._account(self.world.viewer, "User"))

    def _get_account(self, query: dict[str, str], kind: TokenKind, login: str) -> Answer:
        if login.lower() in self.world.orgs:
            return Answer(200, self._account(self.world.orgs[login.lower()], "Organization"))
        if login.lower() in self.world.users:
            return Answer(200, self._account(self.world.users[login.lower()], "User"))
        return error(404, "Not Found", f"{DOCS}/users/users#get-a-user")

    def _get_org(self, query: dict[str, str], kind: TokenKind, org: str) -> Answer:
        if org.lower() not in self.world.orgs:
            return error(404, "Not Found", f"{DOCS}/orgs/orgs#get-an-organization")
        return Answer(200, self._organization(self.world.orgs[org.lower()]))

    def _list_org_repos(self, query: dict[str, str], kind: TokenKind, org: str) -> Answer:
        if org.lower() not in self.world.orgs:
            return error(404, "Not Found", f"{DOCS}/repos/repos#list-organization-repositories")
        wanted = query.get("type", "all")
        repos = [r for r in self.world.owned_by(org) if _has_type(r, wanted)]
        return self._page(f"/orgs/{org}/repos", query, repos, "minimal-repository", kind)

    def _list_user_repos(self, query: dict[str, str], kind: TokenKind, login: str) -> Answer:
        if login.lower() not in self.world.users and login.lower() not in self.world.orgs:
            return error(404, "Not Found", f"{DOCS}/repos/repos#list-repositories-for-a-user")
        repos = [r for r in self.world.owned_by(login) if not r.private]
        return self._page(f"/users/{login}/repos", query, repos, "minimal-repository", kind)

    def _list_viewer_repos(self, query: dict[str, str], kind: TokenKind) -> Answer:
        if kind == "github-token":
            docs = f"{DOCS}/repos/repos#list-repositories-for-the-authenticated-user"
            return error(403, "Resource not accessible by integration", docs)
        affiliation = query.get("affiliation", "owner,collaborator,organization_member")
        owners = {self.world.viewer.lower()} if "owner" in affiliation else set()
        if "organization_member" in affiliation:
            owners |= set(self.world.orgs)
        visibility = query.get("visibility", "all")
        repos = [
            r
            for r in self.world.repos.values()
            if r.owner.lower() in owners
            and visibility in ("all", "private" if r.private else "public")
        ]
        return self._page("/user/repos", query, repos, "repository", kind)

    # shapes

    def _page(
        self, path: str, query: dict[str, str], repos: list[SimRepo], shape: str, kind: TokenKind
    ) -> Answer:
        """One page of a listing, in GitHub's order, with GitHub's `Link` header."""
        default = "created" if path.startswith("/orgs/") else "full_name"  # GitHub's defaults
        ordered = _sorted(repos, query.get("sort", default), query.get("direction"))
        per_page = min(PER_PAGE_MAX, max(1, _int(query.get("per_page"), PER_PAGE_DEFAULT)))
        page = max(1, _int(query.get("page"), 1))
        last = max(1, -(-len(ordered) // per_page))
        items = ordered[(page - 1) * per_page : page * per_page]
        body = [self._listing_item(repo, shape, kind) for repo in items]
        links: dict[str, int] = {}
        if page < last:
            links.update(next=page + 1, last=last)
        if page > 1:
            links.update(prev=page - 1, first=1)
        header = ", ".join(
            f'<{self.world.url}{path}?{urlencode({**query, "page": str(number)})}>; rel="{rel}"'
            for rel, number in links.items()
        )
        return Answer(200, body, {"Link": header} if header else {})

    def _full_repository(self, repo: SimRepo, kind: TokenKind) -> Json:
        body = self._repository_shape(repo, "full-repository", kind)
        body.update(
            subscribers_count=repo.watchers, network_count=self.world.growth_count(repo, "forks")
        )
        body["template_repository"] = None
        if repo.owner.lower() in self.world.orgs:
            body["organization"].update(self._owner_fields(repo.owner, "Organization"))
        else:
            del body["organization"]
        if repo.fork:  # `parent` and `source` are there only for a fork
            body["parent"] = body["source"] = self._upstream(repo, kind)
        else:
            del body["parent"], body["source"]
        return body

    def _upstream(self, repo: SimRepo, kind: TokenKind) -> Json:
        """A fork's parent: a repo of a fictional upstream owner, outside the simulated world."""
        upstream = SimRepo(f"upstream-{repo.owner}/{repo.name}", repo.id + 10_000_000, repo.created)
        names = _example_names(self.world.url, upstream.full_name)
        body = _rewrite(_template("full-repository")["parent"], names)
        return self._fill_repository(body, upstream, kind)

    def _listing_item(self, repo: SimRepo, shape: str, kind: TokenKind) -> Json:
        body = self._repository_shape(repo, shape, kind)
        # listings never carry these: the stats row needs `GET /repos/{o}/{r}`
        body.pop("subscribers_count", None)
        body.pop("network_count", None)
        return body

    def _repository_shape(self, repo: SimRepo, shape: str, kind: TokenKind) -> Json:
        body = _rewrite(_template(shape), _example_names(self.world.url, repo.full_name))
        return self._fill_repository(body, repo, kind)

    def _fill_repository(self, body: Json, repo: SimRepo, kind: TokenKind) -> Json:
        """The example's fields that say which repo it is, replaced by this repo's."""
        owner_type = "Organization" if repo.owner.lower() in self.world.orgs else "User"
        body["owner"].update(self._owner_fields(repo.owner, owner_type))
        stars = self.world.growth_count(repo, "stars")
        forks = self.world.growth_count(repo, "forks")
        body.update(
            id=repo.id,
            node_id=_node_id("010:Repository", repo.id),
            name=repo.name,
            full_name=repo.full_name,
            private=repo.private,
            visibility="private" if repo.private else "public",
            description=description(repo),
            fork=repo.fork,
            archived=repo.archived,
            homepage=None,
            mirror_url=None,
            language="Python",
            topics=[],
            default_branch="main",
            size=repo.id % 5000 + 100,
            created_at=stamp(repo.created),
            updated_at=stamp(repo.created),
            pushed_at=stamp(repo.created),
            stargazers_count=stars,
            watchers_count=stars,  # GitHub's watchers_count is the stars
            watchers=stars,
            forks_count=forks,
            forks=forks,
            open_issues_count=repo.open_issues,
            open_issues=repo.open_issues,
            html_url=f"https://github.com/{repo.full_name}",
            url=f"{self.world.url}/repos/{repo.full_name}",
            permissions={
                "admin": kind == "pat" and repo.push,
                "push": kind == "pat" and repo.push,
                "pull": True,
            },
        )
        return body

    def _owner_fields(self, login: str, account_type: str) -> dict[str, Json]:
        number = _account_id(login)
        return {
            "login": login,
            "id": number,
            "node_id": _node_id(
                "04:User" if account_type == "User" else "012:Organization", number
            ),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
            "type": account_type,
            "site_admin": False,
        }

    def _account(self, login: str, account_type: str) -> Json:
        """`GET /users/{login}` (and `/user`): simple-user fields plus the profile."""
        owner = _template("full-repository")["owner"]
        body = _rewrite(owner, _example_names(self.world.url, f"{login}/-"))
        body.update(self._owner_fields(login, account_type))
        public = [r for r in self.world.owned_by(login) if not r.private]
        body.update(
            name=login,
            company=None,
            blog="",
            location=None,
            email=None,
            bio=None,
            public_repos=len(public),
            public_gists=0,
            followers=0,
            following=0,
            created_at="2015-01-01T10:00:00Z",
            updated_at="2025-01-01T10:00:00Z",
        )
        return body

    def _organization(self, login: str) -> Json:
        """`GET /orgs/{org}`: the organization's own shape."""
        api = f"{self.world.url}/orgs/{login}"
        number = _account_id(login)
        return {
            "login": login,
            "id": number,
            "node_id": _node_id("012:Organization", number),
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
            "description": None,
            "name": login,
            "html_url": f"https://github.com/{login}",
            "public_repos": len([r for r in self.world.owned_by(login) if not r.private]),
            "type": "Organization",
            "created_at": "2015-01-01T10:00:00Z",
            "updated_at": "2025-01-01T10:00:00Z",
        }


def _has_type(repo: SimRepo, wanted: str) -> bool:
    """`type` of `GET /orgs/{org}/repos`: all, public, private, forks, sources, member."""
    return {
        "public": not repo.private,
        "private": repo.private,
        "forks": repo.fork,
        "sources": not repo.fork,
    }.get(wanted, True)


def _sorted(repos: list[SimRepo], sort: str, direction: str | None) -> list[SimRepo]:
    """GitHub's listing order: by name ascending, by dates newest first, unless told."""
    if sort == "full_name":
        ordered = sorted(repos, key=lambda r: r.full_name.lower())
        return ordered[::-1] if direction == "desc" else ordered
    ordered = sorted(repos, key=lambda r: (r.created, r.id))
    return ordered if direction == "asc" else ordered[::-1]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def error(status: int, message: str, docs: str) -> Answer:
    """GitHub's error shape (basic-error)."""
    return Answer(status, {"message": message, "documentation_url": docs, "status": str(status)})


def json_or_none(body: bytes) -> Json:
    """A request body's JSON; None when it is empty or not JSON."""
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


def rate_limited() -> Answer:
    """GitHub's answer once the hourly budget is spent (the headers say when it resets)."""
    return error(403, "API rate limit exceeded for user ID 1.", RATE_DOCS)


def rate_headers(world: SimWorld) -> dict[str, str]:
    """GitHub's `x-ratelimit-*` headers for the requests served so far."""
    used = min(world.served, world.rate_limit)
    return {
        "x-ratelimit-limit": str(world.rate_limit),
        "x-ratelimit-remaining": str(max(0, world.rate_limit - used)),
        "x-ratelimit-reset": str(world.reset_epoch()),
        "x-ratelimit-used": str(used),
        "x-ratelimit-resource": "core",
    }
