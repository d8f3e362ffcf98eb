"""Form actions: what a definition's `actions` run after the submission's transaction commits.

Each action is a FormAction registered by name (``ctx.add_form_action(name, FormAction(...))``);
the queue task ``forms.run_actions`` runs the matching ones for an event. Every run first
inserts an ActionRun row with a unique (submission, key) in the same transaction as the
action's own writes, so a retried task never repeats a completed action, and a failed one
leaves nothing behind and can be retried.

``notify`` writes an audit row and a log line until a notifications package exists. That
package takes over by registering its own ``FormAction("notify", …)`` with
``ctx.add_form_action("notify", …)`` from a plugin loaded *before* forms (BUILTIN_MODULES
order): forms then skips its fallback, and every existing definition's ``run: notify`` uses
the real one without a change.
"""

import json
import logging
from dataclasses import dataclass

from peewee import IntegrityError

from forms.errors import ExpressionError
from forms.errors import text
from forms.expressions import evaluate
from forms.models import ActionRun
from forms.models import FormSubmission
from forms.models import SubmissionEvent
from portal import audit
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.db import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormAction:
    """A registered action: ``run(ctx)`` returns a short result text (or None when skipped)."""

    name: str
    run: object
    once_per_submission: bool = False  # True: the key ignores the event (quota.consume)
    expression_params: tuple = ()  # `with` keys holding expressions, checked when saved
    description: str = ""


@dataclass
class ActionContext:
    submission: FormSubmission
    compiled: dict
    params: dict
    event: str
    actor: User | None
    scope: dict
    eval_context: object

    def expr(self, name, default=None):
        """Evaluate the expression parameter *name* (numbers pass through)."""
        value = self.params.get(name, default)
        if isinstance(value, str):
            return evaluate(value, self.scope, self.eval_context)
        return value


class ActionSkipped(Exception):
    """The action decided not to run (no contract, no quota…); recorded, never retried."""


def _quota_consume(ctx):
    from portal.contracts.models import Contract
    from portal.contracts.service import consume_quota

    if ctx.submission.contract_id is None:
        raise ActionSkipped("the submission has no contract")
    kind = ctx.params.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ActionSkipped("quota.consume needs `kind`")
    amount = ctx.expr("amount", 1)
    if amount in (None, "", 0):
        raise ActionSkipped("nothing to consume")
    item_size = ctx.expr("item_size") if "item_size" in ctx.params else None
    contract = Contract.get_by_id(ctx.submission.contract_id)
    try:
        usage = consume_quota(contract, kind, str(amount), "form_submission", ctx.submission.id,
                              note=ctx.submission.number,
                              item_size=str(item_size) if item_size not in (None, "") else None)
    except ValueError as error:  # over the per-item maximum, a bad amount: permanent, not retried
        raise ActionSkipped(f"refused: {error}") from None
    if usage is None:
        raise ActionSkipped(f"contract {contract.number} has no quota {kind}")
    return f"consumed {usage.amount} of {kind} (usage {usage.id})"


def _ticket_create(ctx):
    from portal.tickets.service import create_ticket

    sub = ctx.submission
    if sub.contract_id is None or ctx.actor is None:
        raise ActionSkipped("a ticket needs the submission's contract and an actor")
    title = text(ctx.compiled.get("title") or ctx.compiled["key"], "zh")
    data = {
        "contract_id": sub.contract_id,
        "title": str(ctx.params.get("title") or f"{title} {sub.number} 跟进")[:200],
        "description": str(ctx.params.get("description") or f"由表单 {sub.number} 自动创建。"),
        "category": ctx.params.get("category", "fault"),
        "priority": ctx.params.get("priority", "P3"),
        "channel": "portal",
        "reporter_name": ctx.actor.display_name or ctx.actor.username,
    }
    from portal.api.errors import ApiError

    try:
        ticket = create_ticket(data, ctx.actor)
    except ApiError as error:
        raise ActionSkipped(f"refused: {error.message} {error.details}") from None
    return f"created ticket {ticket.number} (id {ticket.id})"


def _notify(ctx):
    roles = ctx.params.get("roles") or []
    template = ctx.params.get("template", "")
    summary = f"notify {','.join(map(str, roles))} {template}: {ctx.submission.number}"
    audit.record("notify", ctx.submission, summary=summary, user=ctx.actor)
    log.info("forms notify: %s", summary)
    return summary


BUILTIN_ACTIONS = (
    FormAction("quota.consume", _quota_consume, once_per_submission=True,
               expression_params=("amount", "item_size"),
               description="Consume a quota of the submission's contract"),
    FormAction("ticket.create", _ticket_create, description="Open a follow-up ticket"),
    FormAction("notify", _notify, description="Notify roles (audit row and log line for now)"),
)


def register_builtin_actions(add, include_notify=True):
    """Register the built-in actions through *add* (``ctx.add_form_action``)."""
    for action in BUILTIN_ACTIONS:
        if action.name == "notify" and not include_notify:
            continue
        add(action.name, action)


def run_actions(submission_id, event_name, event_id, actor_id=None):
    """The queue task: run the actions of *event_name* for the submission; return what ran."""
    from flask import current_app

    from forms import appenv

    submission = FormSubmission.get_or_none(FormSubmission.id == submission_id)
    if submission is None:
        return []
    registry = current_app.extensions["weibao"].registry("form action")
    actor = User.get_or_none(User.id == actor_id) if actor_id else None
    compiled = submission.version.compiled
    ran = []
    for index, entry in enumerate(compiled.get("actions", [])):
        if entry["on"] != event_name:
            continue
        if entry["run"] not in registry:
            log.error("form action %s is not registered (submission %s)", entry["run"], submission_id)
            continue
        action = registry.get(entry["run"])
        key = f"{event_name}#{index}" if action.once_per_submission else \
            f"{event_name}#{index}@{event_id}"
        result = _run_one(submission, compiled, entry, action, key, event_name, actor,
                          appenv.eval_context())
        if result is not None:
            ran.append((entry["run"], result))
    return ran


def _run_one(submission, compiled, entry, action, key, event_name, actor, eval_context):
    scope = {**submission.data, **submission.computed, "state": submission.state}
    ctx = ActionContext(submission, compiled, dict(entry.get("with") or {}), event_name, actor,
                        scope, eval_context)
    with db.atomic():
        try:
            with db.atomic():
                run_row = ActionRun.create(submission=submission, key=key, action=entry["run"])
        except IntegrityError:
            return None  # ran before: a retry must not repeat it
        try:
            when = ctx.params.get("when")
            if when is not None and not (evaluate(when, scope, eval_context)
                                         if isinstance(when, str) else when):
                raise ActionSkipped("`when` is false")
            result = action.run(ctx) or "done"
        except ActionSkipped as skipped:
            result = f"skipped: {skipped}"
        except ExpressionError as error:
            result = f"skipped: {text(error.message, 'en')}"
        run_row.result = str(result)[:2000]
        run_row.save()
        SubmissionEvent.create(submission=submission, kind="action", action=entry["run"],
                               from_state=submission.state, to_state=submission.state,
                               comment=run_row.result, actor=actor, at=utcnow(),
                               data_after=json.dumps({"key": key}))
    return run_row.result
