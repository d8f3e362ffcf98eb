"""Admin pages: the form type editor (admin) and the submission pages for people.

Form types: list, a YAML editor that validates on save and shows every problem with its line
and column, a live preview rendered by the server from the draft, publish, and the version
history with a line diff between any two versions.

Submissions: list (scoped to the user's hospital or vendor), fill in a form built at run time
from the pinned version, view with the workflow buttons the user's role may press, edit, a
printable A4 page, file downloads and CSV/XLSX export over every version.
"""

import difflib

from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import send_file
from flask import url_for
from flask_admin import BaseView
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict

from forms import appenv
from forms import display
from forms import export
from forms import files
from forms import service
from forms import webform
from forms.errors import text
from forms.evaluate import hidden_paths
from forms.models import FormSubmission
from forms.models import FormType
from forms.models import FormVersion
from forms.models import StoredFile
from forms.models import SubmissionEvent
from forms.service import ServiceError
from portal import audit
from portal.admin import AccessMixin
from portal.admin import local_time
from portal.db import db

STARTER = """formdef: 1
key: my_form
version: 1
title: {zh: 新表单, en: New form}
category: record
attach_to: contract
numbering: "BD-{year}-{seq:04}"
sections:
  - key: main
    title: {zh: 基本信息, en: General}
    fields:
      - {key: subject, type: text, required: true, label: {zh: 主题, en: Subject}}
"""


def _loc():
    return service.locale()


def _t(message):
    return text(message, _loc()) if message is not None else ""


def _user():
    return current_user._get_current_object()


# ------------------------------------------------------------------ form types (admin)

class FormTypesView(AccessMixin, BaseView):
    resource = "form_types"

    @expose("/")
    def index(self):
        rows = []
        for form_type in FormType.select().order_by(FormType.key):
            published = service.latest_published(form_type)
            draft = service.draft_of(form_type)
            shown = published or draft
            rows.append({"type": form_type, "published": published, "draft": draft,
                         "title": service.form_title(shown.compiled) if shown else form_type.key,
                         "count": FormSubmission.select().where(
                             FormSubmission.form_type == form_type).count()})
        return self.render("forms/types.html", rows=rows)

    def _editor(self, source, form_type=None, problems=(), status=200, report=None):
        lines = source.count("\n") + 1
        by_line = {}
        for problem in problems:
            if problem.line:
                by_line.setdefault(problem.line, []).append(problem)
        body = self.render("forms/editor.html", source=source, form_type=form_type,
                           problems=list(problems), problem_lines=sorted(by_line), lines=lines,
                           report=report, t=_t,
                           draft=service.draft_of(form_type) if form_type else None,
                           published=service.latest_published(form_type) if form_type else None)
        return body, status

    @expose("/new")
    def new(self):
        return self._editor(STARTER)

    @expose("/<key>/edit")
    def edit(self, key):
        form_type = self._type_or_404(key)
        report = None
        draft = service.draft_of(form_type)
        if draft is not None:
            report = service.change_report(form_type, draft.compiled)
        return self._editor(service.new_draft_source(form_type), form_type, report=report)

    def _type_or_404(self, key):
        form_type = FormType.get_or_none(FormType.key == key) if len(key) <= 63 else None
        if form_type is None:
            abort(404)
        return form_type

    @expose("/save", methods=("POST",))
    def save(self):
        source = request.form.get("yaml", "")
        original = request.form.get("original_key") or None
        form_type = FormType.get_or_none(FormType.key == original) if original else None
        try:
            draft = service.save_draft(source, _user(), expected_key=original)
        except ServiceError as error:
            return self._editor(source, form_type, _problems(error), status=error.status)
        flash(_("Draft version %(n)s of %(key)s saved.", n=draft.version, key=draft.form_type.key),
              "success")
        return redirect(url_for(".edit", key=draft.form_type.key))

    @expose("/preview", methods=("POST",))
    def preview(self):
        source = request.form.get("yaml", "")
        try:
            source, compiled, _loaded = service.compile_source(source)
        except ServiceError as error:
            return self.render("forms/_problems.html", problems=_problems(error), t=_t), 422
        form_class = webform.build_form_class(compiled, _options(), appenv.environment().field_types)
        form = form_class(formdata=None, meta={"csrf": False})
        webform.ensure_min_rows(form, compiled)
        return self.render("forms/_preview.html", form=form, compiled=compiled, problems={},
                           hidden=frozenset(), t=_t, preview=True, existing={})

    @expose("/<key>/publish", methods=("POST",))
    def publish(self, key):
        form_type = self._type_or_404(key)
        try:
            version = service.publish(form_type, _user())
        except ServiceError as error:
            draft = service.draft_of(form_type)
            source = draft.source_yaml if draft else service.new_draft_source(form_type)
            return self._editor(source, form_type, _problems(error), status=error.status)
        flash(_("Version %(n)s of %(key)s published.", n=version.version, key=key), "success")
        return redirect(url_for(".history", key=key))

    @expose("/<key>/history")
    def history(self, key):
        form_type = self._type_or_404(key)
        versions = list(FormVersion.select().where(FormVersion.form_type == form_type)
                        .order_by(FormVersion.version.desc()))
        return self.render("forms/history.html", form_type=form_type, versions=versions, t=_t,
                           local_time=local_time)

    @expose("/<key>/diff")
    def diff(self, key):
        form_type = self._type_or_404(key)
        try:
            a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
        except ValueError:
            abort(400)
        found = {v.version: v for v in FormVersion.select().where(
            (FormVersion.form_type == form_type) & (FormVersion.version << [a, b]))}
        if a not in found or b not in found:
            abort(404)
        lines = list(difflib.unified_diff(found[a].source_yaml.splitlines(),
                                          found[b].source_yaml.splitlines(),
                                          fromfile=f"v{a}", tofile=f"v{b}", lineterm="", n=3))
        return self.render("forms/diff.html", form_type=form_type, a=a, b=b, lines=lines, t=_t)


def _problems(error):
    problems = list(error.problems)
    if not problems:
        from forms.errors import Problem

        problems = [Problem("", error.message)]
    return problems


def _options(contract=None):
    """Users, systems and contracts the current user may pick in a form."""
    from portal.accounts.models import User
    from portal.contracts.access import scoped_contracts
    from portal.contracts.models import Contract
    from portal.contracts.models import CoveredSystem

    user = _user()
    contracts = list(scoped_contracts(user).order_by(Contract.id.desc()).limit(200))
    contract_ids = [c.id for c in contracts]
    orgs = {user.organization_id}
    for c in contracts:
        orgs |= {c.hospital_id, c.vendor_id}
    users = list(User.select().where((User.organization << list(orgs)) & (User.active == True))  # noqa: E712
                 .order_by(User.username).limit(500))
    systems = list(CoveredSystem.select().where(CoveredSystem.contract << (
        [contract.id] if contract is not None else contract_ids or [0]))
        .order_by(CoveredSystem.contract, CoveredSystem.id).limit(1000))
    return webform.Options(users=users, systems=systems, contracts=contracts, locale=_loc())


# ------------------------------------------------------------------ submissions (people)

class SubmissionsView(AccessMixin, BaseView):
    resource = "submissions"

    @expose("/")
    def index(self):
        user = _user()
        query = service.visible_submissions(user)
        key = request.args.get("form", "")
        selected = FormType.get_or_none(FormType.key == key) if key and len(key) <= 63 else None
        if selected is not None:
            query = query.where(FormSubmission.form_type == selected)
        submissions = list(query.order_by(FormSubmission.id.desc()).limit(200))
        types = []
        for form_type in FormType.select().order_by(FormType.key):
            published = service.latest_published(form_type)
            if published is None:
                continue
            types.append({"type": form_type, "title": service.form_title(published.compiled),
                          "may_create": self.may("create") and service.may_create(
                              user, published.compiled)})
        versions = {v.id: v for v in FormVersion.select().where(
            FormVersion.id << list({s.version_id for s in submissions} or {0}))}
        return self.render("forms/submissions.html", submissions=submissions, types=types,
                           selected=selected, versions=versions, t=_t,
                           may_export=self.may("export"), local_time=local_time)

    # -------------------------------------------------------------- fill in
    def _form_page(self, template, compiled, form, problems, hidden, status=200, **extra):
        body = self.render(template, compiled=compiled, form=form,
                           problems=webform.problem_map(problems, _loc()), hidden=hidden, t=_t,
                           preview=False, **extra)
        return body, status

    @expose("/new/<key>", methods=("GET", "POST"))
    def create(self, key):
        form_type = FormType.get_or_none(FormType.key == key) if len(key) <= 63 else None
        published = service.latest_published(form_type) if form_type else None
        if published is None:
            abort(404)
        compiled = published.compiled
        user = _user()
        if not self.may("create") or not service.may_create(user, compiled):
            abort(403)
        env = appenv.environment()
        form_class = webform.build_form_class(compiled, _options(), env.field_types,
                                              with_attachments=True)
        extra = {"form_type": form_type, "version": published, "submission": None,
                 "existing": {}}
        if request.method == "GET":
            form = form_class(formdata=None)
            preset = request.args.get("contract_id", "")
            if preset.isdigit():
                form[webform.CONTRACT_FIELD].data = preset
            if request.args.get("ticket_id", "").isdigit():
                form[webform.TICKET_FIELD].data = request.args["ticket_id"]
            webform.ensure_min_rows(form, compiled)
            return self._form_page("forms/fill.html", compiled, form, [], frozenset(), **extra)
        form = form_class(CombinedMultiDict((request.files, request.form)))
        if not form.validate_on_submit() and form.csrf_token.errors:
            abort(400)
        if webform.row_command(form, compiled, request.form.get("WB_ROW")):
            return self._form_page("forms/fill.html", compiled, form, [], frozenset(), **extra)
        data, problems = webform.extract_data(form, compiled, user)
        draft = request.form.get("WB_SAVE") == "draft"
        contract_id = _int_or_none(form[webform.CONTRACT_FIELD].data)
        ticket_id = _int_or_none(form[webform.TICKET_FIELD].data)
        if (form[webform.TICKET_FIELD].data or "").strip() and ticket_id is None:
            from forms.errors import Problem
            from forms.errors import msg

            problems.append(Problem("ticket_id", msg("工单编号必须是数字 ID", "the ticket must be a numeric id")))
        try:
            if problems:
                raise ServiceError(422, "validation_error", {"zh": "表单有错误", "en": "invalid"},
                                   problems)
            submission = service.create_submission(form_type, data, user, contract_id=contract_id,
                                                   ticket_id=ticket_id, draft=draft)
        except ServiceError as error:
            hidden = _hidden(compiled, data, compiled["workflow"]["initial"])
            return self._form_page("forms/fill.html", compiled, form, _problems(error), hidden,
                                   status=error.status if error.status != 403 else 403, **extra)
        flash(_("%(number)s saved.", number=submission.number), "success")
        return redirect(url_for(".view", submission_id=submission.id))

    def _submission_or_404(self, submission_id):
        found = service.visible_submission(submission_id, _user())
        if found is None:
            abort(404)
        return found

    @expose("/<int:submission_id>/edit", methods=("GET", "POST"))
    def edit(self, submission_id):
        submission = self._submission_or_404(submission_id)
        compiled = submission.version.compiled
        user = _user()
        if not self.may("edit") or not service.may_edit(submission, user, compiled):
            abort(403)
        env = appenv.environment()
        contract = submission.contract if submission.contract_id else None
        form_class = webform.build_form_class(compiled, _options(contract), env.field_types)
        previous = submission.data
        extra = {"form_type": submission.form_type, "version": submission.version,
                 "submission": submission, "existing": previous}
        if request.method == "GET":
            form = form_class(formdata=None, data=webform.initial_data(compiled, previous))
            webform.ensure_min_rows(form, compiled)
            hidden = _hidden(compiled, previous, submission.state)
            return self._form_page("forms/fill.html", compiled, form, [], hidden, **extra)
        form = form_class(CombinedMultiDict((request.files, request.form)))
        if not form.validate_on_submit() and form.csrf_token.errors:
            abort(400)
        if webform.row_command(form, compiled, request.form.get("WB_ROW")):
            return self._form_page("forms/fill.html", compiled, form, [], frozenset(), **extra)
        data, problems = webform.extract_data(form, compiled, user, previous)
        draft = request.form.get("WB_SAVE") == "draft" and submission.is_draft
        try:
            if problems:
                raise ServiceError(422, "validation_error", {"zh": "表单有错误", "en": "invalid"},
                                   problems)
            service.update_submission(submission, data, user, draft=draft)
        except ServiceError as error:
            hidden = _hidden(compiled, data, submission.state)
            return self._form_page("forms/fill.html", compiled, form, _problems(error), hidden,
                                   status=error.status, **extra)
        flash(_("%(number)s saved.", number=submission.number), "success")
        return redirect(url_for(".view", submission_id=submission.id))

    # -------------------------------------------------------------- view, workflow, print
    def _view_context(self, submission):
        compiled = submission.version.compiled
        data, computed = submission.data, submission.computed
        users, systems = display.referenced_ids(compiled, [data])
        lookups = display.Lookups(users, systems)
        return {"submission": submission, "compiled": compiled, "data": data,
                "computed": computed, "lookups": lookups, "show": display.show,
                "refs": display.refs, "t": _t, "loc": _loc(),
                "hidden": _hidden(compiled, data, submission.state),
                "signatures": display.signature_files(compiled, data),
                "local_time": local_time,
                "state_label": _t(compiled["workflow"]["states"].get(
                    submission.state, {}).get("label") or submission.state)}

    @expose("/<int:submission_id>")
    def view(self, submission_id):
        submission = self._submission_or_404(submission_id)
        context = self._view_context(submission)
        user = _user()
        context["transitions"] = service.transitions_for(submission, user, context["compiled"]) \
            if self.may("transition") else []
        context["may_edit"] = self.may("edit") and service.may_edit(submission, user,
                                                                     context["compiled"])
        context["events"] = list(SubmissionEvent.select().where(
            SubmissionEvent.submission == submission).order_by(SubmissionEvent.id))
        return self.render("forms/view.html", **context)

    @expose("/<int:submission_id>/transition", methods=("POST",))
    def transition(self, submission_id):
        submission = self._submission_or_404(submission_id)
        if not self.may("transition"):
            abort(403)
        try:
            service.transition(submission, request.form.get("action", ""),
                               request.form.get("comment", ""), _user())
        except ServiceError as error:
            for problem in _problems(error):
                prefix = f"{problem.field}: " if problem.field else ""
                flash(prefix + _t(problem.message), "error")
            if error.status == 403:
                abort(403)
        else:
            flash(_("Done."), "success")
        return redirect(url_for(".view", submission_id=submission.id))

    @expose("/<int:submission_id>/print")
    def print_view(self, submission_id):
        submission = self._submission_or_404(submission_id)
        return self.render("forms/print.html", **self._view_context(submission))

    @expose("/file/<file_name>")
    def file(self, file_name):
        row = StoredFile.get_or_none(StoredFile.name == file_name) if len(file_name) <= 64 else None
        user = _user()
        if row is None or not service._may_attach(row, user):
            if row is not None:
                with db.atomic():
                    audit.record("access_denied", object_type="StoredFile", object_id=row.id,
                                 summary=f"{request.method} {request.path}", user=user)
            abort(404)
        inline = row.content_type.startswith("image/") and row.content_type != "image/svg+xml"
        return send_file(files.file_path(row), mimetype=row.content_type,
                         as_attachment=not inline, download_name=row.original_name or row.name,
                         max_age=0)

    @expose("/export/<key>/<fmt>")
    def export(self, key, fmt):
        if not self.may("export"):
            abort(403)
        form_type = FormType.get_or_none(FormType.key == key) if len(key) <= 63 else None
        if form_type is None or fmt not in ("csv", "xlsx"):
            abort(404)
        table = export.rows(form_type, service.visible_submissions(_user()), _loc())
        with db.atomic():
            audit.record("export", object_type="FormSubmission", summary=f"{key} {fmt}",
                         user=_user())
        if fmt == "csv":
            payload, mimetype = export.to_csv(table), "text/csv"
        else:
            payload = export.to_xlsx(table, key)
            mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        import io

        return send_file(io.BytesIO(payload), mimetype=mimetype, as_attachment=True,
                         download_name=f"{key}.{fmt}")




def _int_or_none(value):
    value = (value or "").strip() if isinstance(value, str) else value
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    return None


def _hidden(compiled, data, state):
    try:
        return hidden_paths(compiled, data, appenv.eval_context(), state,
                            field_types=appenv.environment().field_types)
    except Exception:  # showing is best effort; the server check runs in service
        return frozenset()


def admin_views():
    """This package's admin view factories, in menu order."""
    category = _l("Forms")
    return [
        ("submissions", lambda: SubmissionsView(name=_l("Submissions"), category=category,
                                                endpoint="submissions", url="/admin/submissions")),
        ("form_types", lambda: FormTypesView(name=_l("Form types"), category=category,
                                             endpoint="form_types", url="/admin/form-types")),
    ]

