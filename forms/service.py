"""The stored side of the forms engine: drafts, publishing, numbering, submissions, transitions.

Everything here is shared by the admin pages, the pages for people and the API. Problems are
raised as ServiceError carrying forms.errors.Problem objects (bilingual, located), so each
caller renders them its own way. Every write runs in one transaction with its audit row;
form actions are queued only after that transaction commits.
"""

import hashlib
import json
import logging
import re
import string

from flask import current_app
from flask import request
from flask_babel import get_locale
from peewee import IntegrityError
from peewee import fn

from forms import appenv
from forms.errors import FormError
from forms.errors import Problem
from forms.errors import format_path
from forms.errors import msg
from forms.errors import text
from forms.evaluate import evaluate_submission
from forms.loader import MAX_BYTES
from forms.loader import load_yaml
from forms.loader import locate
from forms.models import FormSequence
from forms.models import FormSubmission
from forms.models import FormType
from forms.models import FormVersion
from forms.models import StoredFile
from forms.models import SubmissionEvent
from forms.models import dumps
from forms.schema import compile_definition
from forms.versioning import compare
from forms.versioning import uncovered_changes
from portal import audit
from portal.accounts.models import utcnow
from portal.contracts.models import Contract
from portal.db import db
from portal.db import is_postgres
from portal.permissions import scope

log = logging.getLogger(__name__)

CREATE_ROLES = frozenset({"engineer", "manager", "hospital_it"})
FILE_TYPES = ("file", "image", "signature")
_VERSION_LINE = re.compile(r"^(version\s*:\s*)(\d+)(.*)$", re.MULTILINE)


class ServiceError(Exception):
    """A refused request: HTTP-like *status*, a code, a bilingual message and located problems."""

    def __init__(self, status, code, message, problems=()):
        super().__init__(text(message, "en"))
        self.status = status
        self.code = code
        self.message = message
        self.problems = list(problems)

    @classmethod
    def from_form_error(cls, error):
        too_large = any("too large" in text(p.message, "en") for p in error.details)
        return cls(413 if too_large else 422, error.code, error.message, error.details)


def locale():
    """The request's locale code ("zh" or "en") for picking message variants."""
    try:
        return str(get_locale() or "zh")
    except Exception:  # outside a request, e.g. in a queue worker
        return "zh"


def details(problems):
    """API error details for *problems* in the request's locale."""
    return [problem.as_detail(locale()) for problem in problems]


# ---------------------------------------------------------------- definitions and versions

def checksum(source):
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def compile_source(source, app=None):
    """Load and compile YAML *source* with the app's registries; return (compiled, loaded)."""
    if isinstance(source, bytes):
        if len(source) > MAX_BYTES:
            raise ServiceError(413, "too_large", msg("文档过大：{n} 字节，上限 {cap} 字节",
                                                     "document too large: {n} bytes, the limit is {cap}",
                                                     n=len(source), cap=MAX_BYTES))
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ServiceError(422, "invalid_yaml", msg("YAML 文档无效", "invalid YAML document"), [
                Problem("", msg("文档不是有效的 UTF-8（第 {pos} 字节）",
                                "document is not valid UTF-8 (byte {pos})", pos=exc.start))]) from None
    if not isinstance(source, str):
        raise ServiceError(422, "invalid_yaml", msg("YAML 必须是文本", "the YAML must be text"),
                           [Problem("yaml", msg("必须是文本", "must be text"))])
    if len(source.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ServiceError(413, "too_large", msg("文档过大（上限 {cap} 字节）",
                                                 "document too large (limit {cap} bytes)", cap=MAX_BYTES))
    try:
        loaded = load_yaml(source)
        compiled = compile_definition(loaded.data, loaded.marks, appenv.environment(app))
    except FormError as error:
        raise ServiceError.from_form_error(error) from None
    return source, compiled, loaded


def latest_published(form_type):
    return (FormVersion.select()
            .where((FormVersion.form_type == form_type) & (FormVersion.status == "published"))
            .order_by(FormVersion.version.desc()).first())


def draft_of(form_type):
    return (FormVersion.select()
            .where((FormVersion.form_type == form_type) & (FormVersion.status == "draft"))
            .order_by(FormVersion.version.desc()).first())


def next_version_number(form_type):
    if form_type is None or form_type.id is None:
        return 1
    top = (FormVersion.select(fn.MAX(FormVersion.version))
           .where((FormVersion.form_type == form_type) & (FormVersion.status != "draft")).scalar())
    return (top or 0) + 1


def _located(loaded, path, message):
    line, column = locate(loaded.marks, path)
    return Problem(format_path(path), message, line, column)


def field_doc_path(doc, data_path):
    """Find where the field at a stored data path ("kind", "tasks[].days") is written in *doc*."""
    section_key, _, field_key = data_path.rpartition("[].")
    for s_index, section in enumerate(doc.get("sections") or []):
        if not isinstance(section, dict):
            continue
        if section_key and section.get("key") != section_key:
            continue
        if not section_key and section.get("key") == field_key and section.get("type") in (
                "repeat", "checklist"):
            return ("sections", s_index)
        for f_index, spec in enumerate(section.get("fields") or []):
            if isinstance(spec, dict) and spec.get("key") == field_key:
                return ("sections", s_index, "fields", f_index)
    return ("migrations",) if "migrations" in doc else ()


def _numbering_template(compiled):
    return compiled.get("numbering") or (compiled["key"].upper()[:12] + "-{year}-{seq:04}")


def _check_for_save(form_type, compiled, loaded, expected_key):
    problems = []
    if expected_key is not None and compiled["key"] != expected_key:
        problems.append(_located(loaded, ("key",), msg(
            "key 不能修改（应为 {k}）；要新建表单类型请使用“新建”", "the key cannot change (it is {k}); "
            "create a new form type instead", k=expected_key)))
    expected = next_version_number(form_type)
    if compiled["version"] != expected:
        problems.append(_located(loaded, ("version",), msg(
            "version 应为 {n}（已发布的最新版本加 1）", "version must be {n} (the latest published "
            "version plus one)", n=expected)))
    template = compiled.get("numbering")
    if template:
        for other in FormType.select().where(FormType.key != compiled["key"]):
            version = latest_published(other)
            if version is not None and version.compiled.get("numbering") == template:
                problems.append(_located(loaded, ("numbering",), msg(
                    "编号模板与表单类型 {k} 相同，编号会冲突", "the numbering template is the same as "
                    "form type {k}'s; numbers would clash", k=other.key)))
    if problems:
        raise ServiceError(422, "invalid_form_definition",
                           msg("表单定义有 {n} 处错误", "the form definition has {n} problem(s)",
                               n=len(problems)), problems)


def with_next_version(source, number):
    """Return *source* with its top-level `version:` set to *number* (for a new draft)."""
    return _VERSION_LINE.sub(lambda m: f"{m.group(1)}{number}{m.group(3)}", source, count=1)


def save_draft(source, actor, expected_key=None):
    """Validate YAML *source* and store it as its form type's draft; return the FormVersion."""
    source, compiled, loaded = compile_source(source)
    form_type = FormType.get_or_none(FormType.key == compiled["key"])
    if expected_key is not None and form_type is None and compiled["key"] != expected_key:
        form_type = FormType.get_or_none(FormType.key == expected_key)
    _check_for_save(form_type, compiled, loaded, expected_key)
    now = utcnow()
    with db.atomic():
        if form_type is None:
            form_type = FormType.create(key=compiled["key"], created_by=actor, created_at=now)
            audit.record("create", form_type, summary=form_type.key, user=actor)
        draft = draft_of(form_type)
        before = audit.snapshot(draft) if draft is not None else {}
        if draft is None:
            draft = FormVersion(form_type=form_type, created_by=actor, created_at=now)
        draft.version = compiled["version"]
        draft.source_yaml = source
        draft.compiled_json = dumps(compiled)
        draft.checksum = checksum(source)
        draft.status = "draft"
        draft.updated_at = now
        draft.save()
        after = audit.snapshot(draft)
        for big in ("source_yaml", "compiled_json"):
            before.pop(big, None)
            after.pop(big, None)
        audit.record("save_draft", draft, summary=f"{form_type.key} v{draft.version}", user=actor,
                     changes=audit.model_changes(before, after))
    return draft


def change_report(form_type, compiled):
    """Return (compatible, breaking, uncovered) of *compiled* against the latest published one."""
    published = latest_published(form_type) if form_type is not None else None
    if published is None:
        return True, [], []
    compatible, breaking = compare(published.compiled, compiled)
    return compatible, breaking, uncovered_changes(published.compiled, compiled)


def publish(form_type, actor):
    """Publish the draft of *form_type* as its next immutable version."""
    draft = draft_of(form_type)
    if draft is None:
        raise ServiceError(409, "conflict", msg("没有待发布的草稿", "there is no draft to publish"))
    source, compiled, loaded = compile_source(draft.source_yaml)
    _check_for_save(form_type, compiled, loaded, form_type.key)
    published = latest_published(form_type)
    if published is not None:
        left = uncovered_changes(published.compiled, compiled)
        if left:
            doc = loaded.data
            block = compiled.get("migrations") or {}
            problems = []
            if block and block.get("from") != published.version:
                problems.append(_located(loaded, ("migrations", "from"), msg(
                    "migrations.from 必须是 {v}（当前已发布的版本）",
                    "migrations.from must be {v} (the published version)", v=published.version)))
            for change in left:
                where = field_doc_path(doc, change["path"])
                hint = msg("不兼容的修改：{m}；需要 migrations（from: {v}）说明如何迁移",
                           "breaking change: {m}; needs a migrations block (from: {v}) covering it",
                           m=text(change["message"], "zh"), v=published.version)
                hint["en"] = ("breaking change: " + text(change["message"], "en")
                              + f"; needs a migrations block (from: {published.version}) covering it")
                problems.append(_located(loaded, where, hint))
            raise ServiceError(422, "breaking_change", msg(
                "与版本 {v} 不兼容的修改没有迁移说明", "breaking changes against version {v} lack "
                "migrations", v=published.version), problems)
    now = utcnow()
    with db.atomic():
        draft.status = "published"
        draft.compiled_json = dumps(compiled)
        draft.published_by = actor
        draft.published_at = now
        draft.updated_at = now
        try:
            with db.atomic():
                draft.save()
        except IntegrityError:
            raise ServiceError(409, "conflict", msg("该版本号已被发布", "this version number was "
                                                    "published already")) from None
        audit.record("publish", draft, summary=f"{form_type.key} v{draft.version}", user=actor,
                     changes={"status": ["draft", "published"], "checksum": [None, draft.checksum]})
    return draft


def new_draft_source(form_type):
    """The text an editor starts from: the draft, else the latest published with version+1."""
    draft = draft_of(form_type)
    if draft is not None:
        return draft.source_yaml
    published = latest_published(form_type)
    if published is None:
        return ""
    return with_next_version(published.source_yaml, published.version + 1)


def form_title(compiled, loc=None):
    return text(compiled.get("title") or compiled.get("key"), loc or locale())


# ---------------------------------------------------------------- numbering

def next_number(form_type, compiled, now=None):
    """Take the next number for *form_type* in this year; call inside the creating transaction.

    One counter row per (form type, year), bumped with INSERT … ON CONFLICT DO UPDATE …
    RETURNING: SQLite transactions are IMMEDIATE (writers serialised), PostgreSQL locks the
    row until commit, so concurrent creators get distinct numbers, and a rollback returns its
    number."""
    cal_now = (now or utcnow()).astimezone(_tz())
    year = cal_now.year
    query = (FormSequence.insert(form_type=form_type, year=year, last=1)
             .on_conflict(conflict_target=[FormSequence.form_type, FormSequence.year],
                          update={FormSequence.last: FormSequence.last + 1})
             .returning(FormSequence.last))
    rows = list(query.execute())
    seq = rows[0][0] if isinstance(rows[0], tuple) else rows[0].last
    values = {"year": year, "month": cal_now.month, "day": cal_now.day,
              "quarter": (cal_now.month - 1) // 3 + 1, "seq": seq}
    return string.Formatter().vformat(_numbering_template(compiled), (), values)


def _tz():
    from portal.calendars.service import current_calendar

    return current_calendar().tz


# ---------------------------------------------------------------- scoping and roles

def visible_submissions(user):
    return scope(FormSubmission.select(), user, hospital=FormSubmission.hospital,
                 vendor=FormSubmission.vendor)


def visible_submission(submission_id, user):
    """The submission if *user* may see it; else None (an attempt on another organisation's
    submission is audited)."""
    try:
        submission_id = int(submission_id)
    except (TypeError, ValueError):
        return None
    if not 0 < submission_id < 2**63:
        return None
    found = visible_submissions(user).where(FormSubmission.id == submission_id).first()
    if found is None and FormSubmission.select().where(FormSubmission.id == submission_id).exists():
        with db.atomic():
            audit.record("access_denied", object_type="FormSubmission", object_id=submission_id,
                         summary=f"{request.method} {request.path}", user=user)
    return found


def creators(compiled):
    """Roles that may create a submission of *compiled*: those of the transitions leaving the
    initial state (admin always); with no such transitions, every role that may create."""
    initial = compiled["workflow"]["initial"]
    roles = set()
    for transition in compiled["workflow"]["transitions"]:
        if initial in transition["from"]:
            roles |= set(transition["roles"])
    roles = (roles & CREATE_ROLES) if roles else set(CREATE_ROLES)
    return roles | {"admin"}


def may_create(user, compiled):
    return user.role in creators(compiled)


def transitions_for(submission, user, compiled=None):
    """The workflow transitions *user* may perform on *submission* now."""
    compiled = compiled or submission.version.compiled
    out = []
    for transition in compiled["workflow"]["transitions"]:
        if submission.state in transition["from"] and (
                user.role == "admin" or user.role in transition["roles"]):
            out.append(transition)
    return out


def is_final(compiled, state):
    return bool(compiled["workflow"]["states"].get(state, {}).get("final"))


def may_edit(submission, user, compiled=None):
    compiled = compiled or submission.version.compiled
    if is_final(compiled, submission.state):
        return False
    if submission.state != compiled["workflow"]["initial"] and not compiled["settings"].get(
            "edit_after_submit"):
        return False
    return may_create(user, compiled) or (
        submission.created_by_id == user.id and user.role in CREATE_ROLES)


# ---------------------------------------------------------------- submissions

def _attachments(user, contract_id, ticket_id, problems):
    """Resolve the ticket and contract a submission links to (both must be visible)."""
    from portal.contracts.access import scoped_contracts

    contract = ticket = None
    if ticket_id is not None:
        try:
            from portal.tickets.models import Ticket
            from portal.tickets.service import visible
        except ImportError:
            problems.append(Problem("ticket_id", msg("工单功能未安装", "tickets are not installed")))
        else:
            ticket = visible(Ticket.select(), user).where(Ticket.id == ticket_id).first()
            if ticket is None:
                problems.append(Problem("ticket_id", msg("没有这个工单（或无权查看）",
                                                         "no such ticket among yours")))
    if contract_id is not None:
        contract = scoped_contracts(user).where(Contract.id == contract_id).first()
        if contract is None:
            problems.append(Problem("contract_id", msg("没有这个合同（或无权查看）",
                                                       "no such contract among yours")))
    if ticket is not None:
        if contract is not None and ticket.contract_id != contract.id:
            problems.append(Problem("contract_id", msg("合同与工单的合同不一致",
                                                       "the contract is not the ticket's contract")))
        contract = contract or Contract.get_by_id(ticket.contract_id)
    if contract is None and ticket_id is None and contract_id is None and user.role != "admin":
        problems.append(Problem("contract_id", msg("需要 contract_id 或 ticket_id",
                                                   "contract_id or ticket_id is required")))
    return contract, ticket


def _file_fields(compiled):
    """Yield (data path pattern, section key or None, field spec) of every file-like field."""
    for section in compiled["sections"]:
        if section["type"] == "checklist":
            continue
        for spec in section["fields"]:
            if spec["type"] in FILE_TYPES:
                yield (section["key"] if section["type"] == "repeat" else None), spec


def _check_file_refs(compiled, values, user, field_types, problems):
    """Replace every stored-file reference by the stored row's own reference; refuse unknown
    files and files the user may not attach, then re-check type and size on the real values."""
    settings = compiled.get("settings", {})
    for section_key, spec in _file_fields(compiled):
        holders = []
        if section_key is None:
            holders.append((values, spec["key"], spec["key"]))
        else:
            for index, row in enumerate(values.get(section_key) or []):
                holders.append((row, spec["key"], f"{section_key}[{index}].{spec['key']}"))
        for holder, key, path in holders:
            value = holder.get(key)
            if value in (None, [], {}):
                continue
            refs = value if isinstance(value, list) else [value]
            real = []
            for ref in refs:
                row = StoredFile.get_or_none(StoredFile.name == ref.get("id"))
                if row is None or not _may_attach(row, user):
                    problems.append(Problem(path, msg("文件 {n} 不存在或无权使用",
                                                      "file {n} does not exist or is not yours",
                                                      n=ref.get("id"))))
                    continue
                real.append(row.ref())
            if len(real) != len(refs):
                continue
            checked = dict(spec)
            checked.setdefault("max_size_mb", settings.get("max_upload_mb", 10))
            try:
                cleaned = field_types.get(spec["type"]).clean(
                    real if isinstance(value, list) else real[0], checked)
            except Exception as exc:  # Invalid carries the bilingual message
                problems.append(Problem(path, getattr(exc, "message", msg("文件无效", "invalid file"))))
                continue
            holder[key] = cleaned


def _may_attach(row, user):
    if user.role == "admin" or row.uploaded_by_id == user.id:
        return True
    if row.submission_id is not None:
        return visible_submissions(user).where(FormSubmission.id == row.submission_id).exists()
    return False


def _stored_computed(compiled, computed):
    keep = {entry["key"] for entry in compiled["computed"] if entry.get("store", True)}
    for section in compiled["sections"]:
        if section["type"] == "fields":
            keep |= {f["key"] for f in section["fields"] if f["type"] == "computed"
                     and f.get("store", True)}
    return {key: value for key, value in computed.items() if key in keep}


def evaluate(compiled, data, state, previous=None, draft=False):
    """Evaluate *data* on the server with the app's registries (the authoritative check)."""
    env = appenv.environment()
    return evaluate_submission(compiled, data, appenv.eval_context(), state, previous=previous,
                               draft=draft, field_types=env.field_types)


def _linked_files(values, compiled):
    names = []
    for section_key, spec in _file_fields(compiled):
        rows = [values] if section_key is None else (values.get(section_key) or [])
        for row in rows:
            value = row.get(spec["key"]) if isinstance(row, dict) else None
            for ref in (value if isinstance(value, list) else [value] if value else []):
                names.append(ref["id"])
    return names


def _checked(compiled, data, user, state, previous=None, draft=False, extra=()):
    problems = list(extra)
    cleaned, computed, found = evaluate(compiled, data, state, previous, draft)
    problems.extend(found)
    if not problems:
        _check_file_refs(compiled, cleaned, user, appenv.environment().field_types, problems)
    if problems:
        raise ServiceError(422, "validation_error", msg("提交的表单有 {n} 处错误",
                                                        "the submission has {n} problem(s)",
                                                        n=len(problems)), problems)
    return cleaned, _stored_computed(compiled, computed)


def create_submission(form_type, data, user, contract_id=None, ticket_id=None, draft=False):
    """Validate on the server and store a new submission of the latest published version."""
    version = latest_published(form_type)
    if version is None:
        raise ServiceError(409, "conflict", msg("该表单类型还没有发布的版本",
                                                "this form type has no published version"))
    compiled = version.compiled
    if not may_create(user, compiled):
        raise ServiceError(403, "forbidden", msg("您的角色不能填写此表单", "your role may not fill in "
                                                 "this form"))
    problems = []
    contract, ticket = _attachments(user, contract_id, ticket_id, problems)
    if draft and not compiled["settings"].get("allow_draft", True):
        problems.append(Problem("draft", msg("此表单不允许保存草稿", "this form does not allow drafts")))
    state = compiled["workflow"]["initial"]
    cleaned, computed = _checked(compiled, data, user, state, draft=draft, extra=problems)
    now = utcnow()
    with db.atomic():
        submission = FormSubmission(
            version=version, form_type=form_type, number=next_number(form_type, compiled, now),
            ticket_id=ticket.id if ticket is not None else None,
            contract=contract.id if contract is not None else None,
            hospital=contract.hospital_id if contract is not None else None,
            vendor=contract.vendor_id if contract is not None else None,
            data_json=dumps(cleaned), computed_json=dumps(computed), state=state,
            is_draft=bool(draft), submitted_at=None if draft else now, created_by=user,
            created_at=now, updated_at=now)
        submission.save(force_insert=True)
        event = SubmissionEvent.create(submission=submission, kind="created", to_state=state,
                                       data_after=submission.data_json, actor=user, at=now)
        _link_files(submission, cleaned, compiled)
        audit.record("create", submission, summary=f"{submission.number} ({form_type.key} "
                     f"v{version.version})", user=user)
        if not draft:
            schedule_actions(submission, "submit", event, user)
    return submission


def _link_files(submission, values, compiled):
    names = _linked_files(values, compiled)
    if names:
        (StoredFile.update(submission=submission)
         .where((StoredFile.name << names) & StoredFile.submission.is_null()).execute())


def update_submission(submission, data, user, draft=False):
    """Validate on the server against the submission's own version and store the edit."""
    compiled = submission.version.compiled
    if not may_edit(submission, user, compiled):
        raise ServiceError(409, "conflict", msg("当前状态下不能修改此表单",
                                                "this submission cannot be edited in its state"))
    if draft and not submission.is_draft:
        raise ServiceError(409, "conflict", msg("已提交的表单不能改回草稿",
                                                "a submitted form cannot become a draft again"))
    previous = submission.data
    cleaned, computed = _checked(compiled, data, user, submission.state, previous, draft)
    now = utcnow()
    with db.atomic():
        locked = _lock(submission.id)
        if locked.updated_at != submission.updated_at:
            raise ServiceError(409, "conflict", msg("表单已被他人修改，请刷新后重试",
                                                    "someone else changed this submission; reload"))
        before = locked.data_json
        first_submit = locked.is_draft and not draft
        locked.data_json = dumps(cleaned)
        locked.computed_json = dumps(computed)
        locked.is_draft = bool(draft)
        locked.updated_at = now
        if first_submit:
            locked.submitted_at = now
        locked.save()
        event = SubmissionEvent.create(submission=locked, kind="edited", from_state=locked.state,
                                       to_state=locked.state, data_before=before,
                                       data_after=locked.data_json, actor=user, at=now)
        _link_files(locked, cleaned, compiled)
        audit.record("update", locked, summary=locked.number, user=user,
                     changes=_data_changes(json.loads(before), cleaned))
        if first_submit:
            schedule_actions(locked, "submit", event, user)
    return locked


def _data_changes(before, after):
    return {key: [before.get(key), after.get(key)] for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)}


def _lock(submission_id):
    query = FormSubmission.select().where(FormSubmission.id == submission_id)
    if is_postgres():
        query = query.for_update()
    return query.get()


def transition(submission, action, comment, user):
    """Perform workflow *action*; the stored data is re-validated on the server first."""
    compiled = submission.version.compiled
    if not isinstance(action, str) or not action:
        raise ServiceError(422, "validation_error", msg("缺少动作", "the action is missing"),
                           [Problem("action", msg("必填", "required"))])
    comment = comment or ""
    candidates = [t for t in compiled["workflow"]["transitions"] if t["action"] == action]
    if not candidates:
        raise ServiceError(409, "conflict", msg("此表单没有动作 {a}", "this form has no action {a}",
                                                a=action))
    chosen = next((t for t in candidates if submission.state in t["from"]), None)
    if chosen is None:
        raise ServiceError(409, "conflict", msg("状态 {s} 下不能执行 {a}", "{a} is not possible in "
                                                "state {s}", s=submission.state, a=action))
    if user.role != "admin" and user.role not in chosen["roles"]:
        raise ServiceError(403, "forbidden", msg("您的角色不能执行此动作",
                                                 "your role may not perform this action"))
    problems = []
    if not isinstance(comment, str) or len(comment) > 5000:
        problems.append(Problem("comment", msg("意见必须是不超过 5000 字的文本",
                                               "the comment must be text of at most 5000 characters")))
        comment = ""
    else:
        from portal.text import text_problem

        problem = text_problem(comment, 5000, multiline=True)
        if problem:
            problems.append(Problem("comment", {"zh": str(problem), "en": str(problem)}))
    if chosen["comment_required"] and not comment.strip():
        problems.append(Problem("comment", msg("此动作需要填写意见", "this action needs a comment")))
    data = submission.data
    cleaned, computed = _checked(compiled, data, user, submission.state, data, False, problems)
    if chosen.get("condition"):
        from forms.expressions import evaluate as evaluate_expression
        from forms.errors import ExpressionError

        scope_values = {**cleaned, **computed, "state": submission.state}
        try:
            allowed_now = evaluate_expression(chosen["condition"], scope_values,
                                              appenv.eval_context())
        except ExpressionError as exc:
            allowed_now, problems = False, [Problem("action", exc.message)]
        if not allowed_now:
            raise ServiceError(422, "validation_error", msg("不满足此动作的条件",
                                                            "the condition of this action is not met"),
                               problems or [Problem("action", msg("条件不满足",
                                                                  "condition not met"))])
    now = utcnow()
    with db.atomic():
        locked = _lock(submission.id)
        if locked.state != submission.state:
            raise ServiceError(409, "conflict", msg("表单状态已被他人改变，请刷新",
                                                    "someone else changed the state; reload"))
        first_submit = locked.is_draft
        before_state = locked.state
        locked.state = chosen["to"]
        locked.data_json = dumps(cleaned)
        locked.computed_json = dumps(computed)
        locked.is_draft = False
        locked.updated_at = now
        if first_submit:
            locked.submitted_at = now
        locked.save()
        event = SubmissionEvent.create(submission=locked, kind="transition", action=action,
                                       from_state=before_state, to_state=locked.state,
                                       comment=comment, actor=user, at=now)
        audit.record("transition", locked, summary=f"{locked.number} {action}", user=user,
                     changes={"state": [before_state, locked.state]})
        if first_submit:
            schedule_actions(locked, "submit", event, user)
        schedule_actions(locked, "transition:" + action, event, user)
    return locked


# ---------------------------------------------------------------- actions after commit

def schedule_actions(submission, event_name, event, user):
    """Queue the form's actions for *event_name* once the surrounding transaction commits."""
    compiled = submission.version.compiled
    if not any(entry["on"] == event_name for entry in compiled.get("actions", [])):
        return
    app = current_app._get_current_object()
    args = (submission.id, event_name, event.id, user.id if user is not None else None)

    def enqueue():
        from portal.queue import enqueue as queue_task

        try:
            queue_task(app, "forms.run_actions", *args)
        except Exception:  # the submission is stored; a failed queue write must not undo it
            log.exception("could not queue the actions of submission %s (%s)", *args[:2])

    db.after_commit(enqueue)


# ---------------------------------------------------------------- serialisation

def submission_json(submission):
    version = submission.version
    return {
        "id": submission.id, "number": submission.number, "form_key": submission.form_type.key,
        "form_version": version.version, "state": submission.state, "draft": submission.is_draft,
        "data": submission.data, "computed": submission.computed,
        "contract_id": submission.contract_id, "ticket_id": submission.ticket_id,
        "created_at": submission.created_at.isoformat(),
        "updated_at": submission.updated_at.isoformat(),
    }


def version_json(version, compiled=True):
    out = {"key": version.form_type.key, "version": version.version, "status": version.status,
           "checksum": version.checksum,
           "published_at": version.published_at.isoformat() if version.published_at else None}
    if compiled:
        out["definition"] = version.compiled
    return out
