"""The example workflows and the README's snippets use the action as action.yml declares it."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXPECTED = {
    "own-repos.yml",
    "organisation-app-token.yml",
    "separate-data-repository.yml",
    "posthog.yml",
}
ACTION = re.compile(r"[^/\s@]+/traffic-sync@v1")  # `owner/traffic-sync@v1`, whoever the owner
SECRET = re.compile(r"\$\{\{\s*secrets\.(\w+)\s*\}\}")
COMMENT = re.compile(r"(?:^|\s)#(.*)$")  # a `#` after a blank: not a URL's fragment
YAML_BLOCK = re.compile(r"^[ \t]*```yaml\n(.*?)^[ \t]*```", re.M | re.S)  # in a list item too
CRON_ITEM = re.compile(r"(?:\*|(?P<low>\w+)(?:-(?P<high>\w+))?)(?:/(?P<step>\d+))?")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 6, WEEKDAYS),
)

Inputs = Mapping[str, Mapping[str, Any]]


def load_inputs() -> Inputs:
    """action.yml's `inputs:` as they are now, not a copy."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    inputs: Inputs = action["inputs"]
    return inputs


def cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    """A number or a name (JAN, SUN) inside the field's range, or None."""
    if text.isdigit():
        value = int(text)
    elif text.upper() in names:
        value = low + names.index(text.upper())
    else:
        return None
    return value if low <= value <= high else None


def cron_item_is_valid(item: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    """`*`, a value or a range `a-b`, the star and the range with an optional `/step`."""
    match = CRON_ITEM.fullmatch(item)
    if not match or (match["step"] is not None and int(match["step"]) == 0):
        return False
    if match["low"] is None:
        return True  # `*` or `*/n`
    if match["high"] is None and match["step"] is not None:
        return False  # `5/2` is no POSIX cron
    first = cron_value(match["low"], low, high, names)
    last = cron_value(match["high"] or match["low"], low, high, names)
    return first is not None and last is not None and first <= last


def cron_problems(cron: str) -> list[str]:
    """Why `cron` is not a 5-field POSIX cron line as GitHub's `schedule` takes it."""
    fields = cron.split()
    if len(fields) != 5:
        return [f"cron {cron!r} has {len(fields)} fields, not 5"]
    return [
        f"cron {cron!r}: {name} {item!r} is not valid"
        for field, (name, low, high, names) in zip(fields, CRON_FIELDS, strict=True)
        for item in field.split(",")
        if not cron_item_is_valid(item, low, high, names)
    ]


def triggers(workflow: Mapping[Any, Any]) -> dict[str, Any]:
    """The workflow's `on:` as a mapping. YAML 1.1 (PyYAML) reads a bare `on` key as True."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on) if isinstance(on, dict) else {}


def action_steps(node: object) -> Iterator[Mapping[str, Any]]:
    """Every mapping anywhere in `node` whose `uses` is this action at `@v1`."""
    if isinstance(node, dict):
        if isinstance(node.get("uses"), str) and ACTION.fullmatch(node["uses"]):
            yield node
        for value in node.values():
            yield from action_steps(value)
    elif isinstance(node, list):
        for value in node:
            yield from action_steps(value)


def step_problems(step: Mapping[str, Any], inputs: Inputs) -> list[str]:
    """Inputs the step passes that action.yml does not declare, and required ones it leaves out."""
    given = step.get("with") or {}
    problems = [
        f"input {name!r} is not declared in action.yml" for name in given if name not in inputs
    ]
    problems += [
        f"required input {name!r} is not passed"
        for name, spec in inputs.items()
        if spec.get("required") is True and name not in given
    ]
    return problems


def permission_problems(workflow: Mapping[Any, Any], job_name: str) -> list[str]:
    """The job's permissions (else the workflow's) must grant contents and actions write."""
    job = workflow["jobs"][job_name]
    granted = job.get("permissions", workflow.get("permissions"))
    if granted == "write-all":
        return []
    granted = granted if isinstance(granted, dict) else {}
    return [
        f"job {job_name!r} lacks permissions {scope}: write"
        for scope in ("contents", "actions")
        if granted.get(scope) != "write"
    ]


def comments(text: str) -> str:
    """The text of every YAML comment in `text`."""
    return "\n".join(m.group(1) for line in text.splitlines() if (m := COMMENT.search(line)))


def workflow_problems(text: str, inputs: Inputs, documented: str = "") -> list[str]:
    """Everything that keeps `text` from being an example users can copy as it is."""
    workflow = yaml.safe_load(text)
    if not isinstance(workflow, dict):
        return ["not a workflow (a YAML mapping)"]
    problems = []
    on = triggers(workflow)
    schedule = on.get("schedule") or []
    if not schedule:
        problems.append("no schedule")
    for entry in schedule:
        cron = entry.get("cron") if isinstance(entry, dict) else None
        problems += cron_problems(cron) if isinstance(cron, str) else [f"schedule {entry!r}"]
    if "workflow_dispatch" not in on:
        problems.append("no workflow_dispatch")
    used = False
    for job_name, job in (workflow.get("jobs") or {}).items():
        steps = list(action_steps(job))
        used = used or bool(steps)
        for step in steps:
            problems += step_problems(step, inputs)
        if steps:
            problems += permission_problems(workflow, job_name)
    if not used:
        problems.append("no step uses */traffic-sync@v1")
    named = comments(text) + "\n" + documented
    for secret in sorted(set(SECRET.findall(text))):
        if not re.search(rf"\b{secret}\b", named):
            problems.append(f"secret {secret} is not named in a comment or the README")
    return problems


def readme_snippet_problems(markdown: str, inputs: Inputs) -> tuple[int, list[str]]:
    """How many ```yaml blocks use the action, and what is wrong with their inputs.

    A block is a whole workflow, a few steps, or a bare `with:` mapping (the README shows the
    inputs to add to the action's step that way).
    """
    used, problems = 0, []
    for block in YAML_BLOCK.findall(markdown):
        parsed = yaml.safe_load(textwrap.dedent(block))
        steps = list(action_steps(parsed))
        if isinstance(parsed, dict) and set(parsed) == {"with"}:
            steps.append(parsed)
        used += len(steps)
        for step in steps:
            problems += step_problems(step, inputs)
    return used, problems


def location_problems(path: Path) -> list[str]:
    """An example may not sit under .github/workflows (the Marketplace refuses such a repo)."""
    parts = path.resolve().relative_to(ROOT).parts
    inside = any(parts[i : i + 2] == (".github", "workflows") for i in range(len(parts)))
    return [f"{path} is under .github/workflows"] if inside else []


def example_files() -> list[Path]:
    """The workflows in examples/."""
    return sorted(EXAMPLES.glob("*.yml"))


def test_the_examples_are_there() -> None:
    """examples/ has the four workflows, each linked from examples/README.md, linked itself."""
    names = {path.name for path in example_files()}
    assert names >= EXPECTED
    index = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in names:
        assert f"]({name})" in index, name
    assert "](examples/" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", example_files(), ids=lambda path: path.name)
def test_example_is_ready_to_copy(path: Path) -> None:
    """Daily schedule and manual runs, declared and required inputs, named secrets, permissions."""
    documented = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert workflow_problems(text, load_inputs(), documented) == []
    assert location_problems(path) == []


def test_examples_match_the_github_workflow_schema() -> None:
    """Every example validates against SchemaStore's github-workflow schema (bundled, offline)."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, example_files()),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_snippets_pass_only_declared_inputs() -> None:
    """The YAML of the README and of docs/ that uses the action passes only inputs action.yml
    declares."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    used, problems = 0, []
    for document in documents:
        found, wrong = readme_snippet_problems(document.read_text(encoding="utf-8"), load_inputs())
        used += found
        problems += [f"{document.name}: {problem}" for problem in wrong]
    assert used >= 5  # the quick start, the app token, the other repository, PostHog, shards
    assert problems == []


GOOD = """\
# secrets: TRAFFIC_TOKEN reads traffic
name: traffic
on:
  schedule:
    - cron: "17 12 * * *"
  workflow_dispatch:
permissions:
  contents: write
  actions: write
jobs:
  traffic:
    runs-on: ubuntu-latest
    steps:
      - uses: other/tool@v3
        with:
          anything: goes # only the traffic-sync steps are checked
      - uses: me/traffic-sync@v1
        with:
          token: ${{ secrets.TRAFFIC_TOKEN }}
          repos: me/*
"""
INPUTS: Inputs = {
    "token": {"required": True},
    "repos": {"required": False, "default": "x"},
    "dry-run": {"default": "false"},
}


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        GOOD.replace("\non:", '\n"on":'),
        GOOD.replace('"17 12 * * *"', '"*/30 9-17/2 1,15 JAN-jun MON-FRI"'),
        GOOD.replace("permissions:\n  contents: write\n  actions: write", "permissions: write-all"),
    ],
    ids=["good", "quoted on", "every cron form", "write-all"],
)
def test_checker_passes_a_good_workflow(text: str) -> None:
    """The sample the broken ones are made from passes, in each of its allowed spellings."""
    assert workflow_problems(text, INPUTS) == []


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('"17 12 * * *"', '"0 17 12 * * *"', "has 6 fields, not 5"),
        ('"17 12 * * *"', '"17 24 * * *"', "hour '24' is not valid"),
        ('"17 12 * * *"', '"17 12 * * 5/2"', "day of week '5/2' is not valid"),
        ('"17 12 * * *"', '"17 12 * FOO *"', "month 'FOO' is not valid"),
        ('"17 12 * * *"', '"17 14-12 * * *"', "hour '14-12' is not valid"),
        ('"17 12 * * *"', '"*/0 12 * * *"', "minute '*/0' is not valid"),
        ('  schedule:\n    - cron: "17 12 * * *"\n', "", "no schedule"),
        ("  workflow_dispatch:\n", "  push:\n", "no workflow_dispatch"),
        ("repos: me/*", "repo: me/*", "input 'repo' is not declared"),
        ("          token: ${{ secrets.TRAFFIC_TOKEN }}\n", "", "required input 'token'"),
        ("repos: me/*", "dry-run: ${{ secrets.UNNAMED }}", "secret UNNAMED is not named"),
        ("  contents: write\n", "  contents: read\n", "lacks permissions contents: write"),
        ("  actions: write\n", "", "lacks permissions actions: write"),
        ("    runs-on:", "    permissions: {contents: write}\n    runs-on:", "actions: write"),
        ("me/traffic-sync@v1", "me/traffic-sync@v2", "no step uses"),
    ],
    ids=[
        "six-field cron",
        "hour out of range",
        "step on a single value",
        "unknown month name",
        "backward range",
        "zero step",
        "no schedule",
        "no workflow_dispatch",
        "undeclared input",
        "required input missing",
        "secret not named",
        "contents read",
        "no actions write",
        "job permissions override the workflow's",
        "another version of the action",
    ],
)
def test_checker_finds_each_broken_workflow(old: str, new: str, problem: str) -> None:
    """Each check fails on a sample broken in just that way."""
    assert old in GOOD
    problems = workflow_problems(GOOD.replace(old, new), INPUTS)
    assert any(problem in found for found in problems), problems


def test_checker_accepts_a_secret_named_in_the_readme() -> None:
    """A secret the file does not name passes when the examples' README names it."""
    text = GOOD.replace("# secrets: TRAFFIC_TOKEN reads traffic\n", "")
    assert workflow_problems(text, INPUTS) == [
        "secret TRAFFIC_TOKEN is not named in a comment or the README"
    ]
    assert workflow_problems(text, INPUTS, "Add a secret TRAFFIC_TOKEN.") == []


SNIPPETS = """\
Steps:

```yaml
    - uses: me/traffic-sync@v1
      with:
        token: t
        colour: red
```

Or add:

```yaml
        with:
          token: t
          shade: blue
```

```yaml
something: else
```

- In a list item:

  ```yaml
  - uses: me/traffic-sync@v1
    with:
      tint: x
  ```
"""


def test_checker_finds_readme_snippets_with_undeclared_inputs() -> None:
    """A README step, a bare `with:` block or a step in a list item with a bad input is reported."""
    used, problems = readme_snippet_problems(SNIPPETS, INPUTS)
    assert used == 3
    assert problems == [
        "input 'colour' is not declared in action.yml",
        "input 'shade' is not declared in action.yml",
        "input 'tint' is not declared in action.yml",
        "required input 'token' is not passed",
    ]


def test_checker_refuses_an_example_under_github_workflows() -> None:
    """A file under .github/workflows would stop the Marketplace listing."""
    assert location_problems(ROOT / ".github" / "workflows" / "traffic.yml") != []
    assert location_problems(EXAMPLES / "own-repos.yml") == []
