"""Publishing to PostHog: the settled days it has not acknowledged, and the record of them.

Runs after the data branch is written, from the history as written, so PostHog can never
block or lose the branch's data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from traffic_sync.branch.state import BranchState, read_state, state_path
from traffic_sync.core.errors import PostHogError, StoreError
from traffic_sync.core.history import apply_observation
from traffic_sync.core.log import Log
from traffic_sync.core.models import History, Observation, PostHogReport, SeriesKey
from traffic_sync.sinks.gitstore import DataBranch
from traffic_sync.sinks.posthog import Event, EventSender, advance, plan_events, window_events
from traffic_sync.stages.plan import Plan
from traffic_sync.stages.store import PUSH_ATTEMPTS, until_pushed


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """What publishing takes of a run's settings (the orchestrator builds it from them)."""

    posthog_host: str
    # with the branch sink, events come from the history as written and the watermarks go to
    # the data branch's state.json; without it, from the current window alone
    from_branch: bool = True
    data_path: str = ""
    data_location: str = ""  # the data repository as messages name it
    dry_run: bool = False
    push_attempts: int = PUSH_ATTEMPTS


def publish(
    options: PublishOptions,
    observations: Sequence[Observation],
    *,
    plan: Plan | None,
    store_failed: bool,
    today: dt.date,
    sender: EventSender,
    log: Log,
    branch: Callable[[], DataBranch],
    sleep: Callable[[float], None],
) -> PostHogReport:
    """Send the settled days PostHog has not acknowledged yet, then record how far it got.

    With the branch sink the events come from the history as written (so turning PostHog on
    later sends the whole stored history) and the watermarks go to state.json in a second small
    commit, on the data branch `branch` opens. Without it, the settled days of the current
    window are sent every run.
    """
    if store_failed:
        return PostHogReport(
            error_title="PostHog skipped",
            error="Nothing was sent because the data branch could not be written; the next run "
            "sends these days.",
        )
    if not options.from_branch:
        events = [
            event
            for observation in observations
            for event in window_events(observation.repo, apply_observation(History(), observation))
        ]
        return _send(options, events, sender=sender, log=log)
    if plan is None:
        return PostHogReport()  # no repo was collected
    path = state_path(options.data_path)
    try:
        watermarks = read_state(plan.files, options.data_path).watermarks()
    except ValueError as exc:
        error = PostHogError(
            f"{path} in the data branch has an unreadable PostHog watermark ({exc}), "
            "so nothing was sent.",
            fix="Correct that date, or delete the repo's `posthog_sent_through` to send its "
            "whole history again.",
        )
        log.error(error, where=path)
        return PostHogReport(error_title=error.title, error=str(error))
    plans = plan_events(plan.histories, watermarks, today=today)

    def record(acknowledged: int) -> None:
        data_branch = branch()
        save_watermarks(
            advance(plans, acknowledged),
            branch=data_branch,
            data_path=options.data_path,
            attempts=options.push_attempts,
            names={repo.id: repo.full_name for repo, _ in plan.histories},
            sent=acknowledged,
            today=today,
            sleep=sleep,
        )

    events = [event for series in plans for event in series.events]
    return _send(options, events, sender=sender, log=log, record=record)


def _send(
    options: PublishOptions,
    events: Sequence[Event],
    *,
    sender: EventSender,
    log: Log,
    record: Callable[[int], None] | None = None,
) -> PostHogReport:
    """Send `events` (none in a dry run), then `record` how many PostHog acknowledged."""
    repos = len({event.full_name for event in events})
    if options.dry_run:
        log.progress(f"PostHog (dry run): {len(events):,} events would be sent, none were")
        return PostHogReport(planned=len(events), repos=repos)
    if not events:
        log.progress("PostHog: no newly settled days to send")
        return PostHogReport()
    log.progress(
        f"PostHog: sending {len(events):,} events ({repos:,} repos) to {options.posthog_host}"
    )
    delivery = sender.send(events)
    errors: list[PostHogError] = []
    if delivery.error is not None:
        log.error(delivery.error, where=options.posthog_host)
        errors.append(delivery.error)
    if record is not None and delivery.acknowledged:
        try:
            record(delivery.acknowledged)
        except StoreError as exc:
            error = PostHogError(
                f"PostHog acknowledged {delivery.acknowledged:,} events, but the record of what "
                f"was sent could not be saved to the data branch: {exc.message}",
                fix="The next run sends those days again; PostHog keeps one copy of identical "
                "events with the same uuid.",
            )
            log.error(error, where=options.data_location)
            errors.append(error)
    log.progress(f"PostHog: {delivery.acknowledged:,} of {len(events):,} events acknowledged")
    return PostHogReport(
        sent=delivery.acknowledged,
        planned=len(events),
        repos=repos,
        error_title=errors[0].title if errors else "",
        error=" ".join(str(error) for error in errors),
    )


def save_watermarks(
    marks: Mapping[SeriesKey, dt.date],
    *,
    branch: DataBranch,
    data_path: str,
    attempts: int,
    names: Mapping[int, str],
    sent: int,
    today: dt.date,
    sleep: Callable[[float], None],
) -> str:
    """Commit state.json with `marks` merged in (a later date wins), re-merging if it moved."""
    if not marks:
        return ""
    path = state_path(data_path)
    lines = [
        f"- {names.get(repo_id, repo_id)} {metric.value}: sent through {day.isoformat()}"
        for (repo_id, metric), day in sorted(marks.items())
    ]
    message = f"traffic-sync: {today.isoformat()}, PostHog: {sent:,} events sent\n\n"
    message += "\n".join(lines) + "\n"

    def attempt() -> str:
        branch.fetch()
        state = BranchState.decode(branch.read_files(path).get(path), path=path)
        try:
            state = state.with_watermarks(marks)
        except ValueError as exc:
            raise StoreError(f"{path} has an unreadable PostHog watermark: {exc}.") from exc
        sha = branch.commit({path: state.encode()}, message)
        if sha is None:
            return ""  # another run recorded as much already
        branch.push(sha)
        return sha

    return until_pushed(attempt, attempts=attempts, sleep=sleep)
