"""WTForms classes built at run time from a compiled definition (the pinned version).

The browser form only collects raw values: visibility, required-ness, computed values and
every rule are evaluated on the server by forms.evaluate at each submit and transition.
Repeat sections are FieldList(FormField(row form)); a checklist is a FormField holding one
RadioField per row, rendered as a table. Names that the page itself adds are upper case, so
they can never clash with a definition's keys (lowercase by the language's rules).
"""

import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import FieldList
from wtforms import Form
from wtforms import FormField
from wtforms import HiddenField
from wtforms import MultipleFileField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from forms import files
from forms.errors import Problem
from forms.errors import text
from forms.service import FILE_TYPES

CONTRACT_FIELD = "WB_CONTRACT"
TICKET_FIELD = "WB_TICKET"
EMPTY = SelectChoice("", "—")


class Options:
    """Choices for fields that refer to things outside the form (users, covered systems)."""

    def __init__(self, users=(), systems=(), contracts=(), locale="zh"):
        self.users = list(users)
        self.systems = list(systems)
        self.contracts = list(contracts)
        self.locale = locale


def _label(spec, locale):
    return text(spec.get("label") or spec["key"], locale)


def _choice_pairs(compiled, name, locale):
    return [SelectChoice(str(c["value"]), text(c["label"], locale))
            for c in compiled["choices"].get(name, [])]


def _number_kw(spec, integer):
    kw = {"type": "number", "step": spec.get("step", 1 if integer else "any"), "inputmode": "decimal"}
    for key in ("min", "max"):
        if key in spec:
            kw[key] = spec[key]
    return kw


def field_for(spec, compiled, options, field_types):
    """Return the unbound WTForms field for one definition field (None for display-only)."""
    kind, locale = spec["type"], options.locale
    label = _label(spec, locale)
    kw = {"render_kw": {}}
    if kind in ("computed", "note"):
        return None
    if kind == "text":
        kw["render_kw"]["maxlength"] = spec.get("max_length", 500)
        return StringField(label, **kw)
    if kind in ("textarea", "markdown"):
        kw["render_kw"]["rows"] = 6 if kind == "markdown" else 3
        return TextAreaField(label, **kw)
    if kind in ("integer", "decimal"):
        return StringField(label, render_kw=_number_kw(spec, kind == "integer"))
    if kind == "boolean":
        return BooleanField(label)
    if kind in ("date", "time"):
        return StringField(label, render_kw={"type": kind})
    if kind == "datetime":
        return StringField(label, render_kw={"type": "datetime-local"})
    if kind == "select":
        return SelectField(label, choices=[EMPTY] + _choice_pairs(compiled, spec["choices"], locale),
                           validate_choice=False)
    if kind == "radio":
        return RadioField(label, choices=_choice_pairs(compiled, spec["choices"], locale),
                          validate_choice=False)
    if kind == "multiselect":
        return SelectMultipleField(label, choices=_choice_pairs(compiled, spec["choices"], locale),
                                   widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput(), validate_choice=False)
    if kind == "rating":
        if spec.get("choices"):
            pairs = _choice_pairs(compiled, spec["choices"], locale)
        else:
            pairs = [SelectChoice(str(n), str(n)) for n in range(1, spec.get("max", 5) + 1)]
        return RadioField(label, choices=pairs, validate_choice=False)
    if kind == "user":
        return SelectField(label, choices=[EMPTY] + [SelectChoice(str(u.id), u.display_name or u.username)
                                                     for u in options.users],
                           validate_choice=False)
    if kind == "system":
        return SelectField(label, choices=[EMPTY] + [SelectChoice(str(s.id), f"{s.contract.number} · {s.name}")
                                                     for s in options.systems],
                           validate_choice=False)
    if kind in ("file", "image"):
        accept = ",".join(spec.get("accept") or (["image/*"] if kind == "image" else []))
        return MultipleFileField(label, render_kw={"accept": accept} if accept else {})
    if kind == "signature":
        return HiddenField(label)
    plugin_type = field_types.get(kind) if kind in field_types else None
    if plugin_type is not None and hasattr(plugin_type, "wtf_field"):
        return plugin_type.wtf_field(spec, label)
    return StringField(label)


def _fields_of(fields, compiled, options, field_types):
    out = {}
    for spec in fields:
        unbound = field_for(spec, compiled, options, field_types)
        if unbound is not None:
            out[spec["key"]] = unbound
    return out


def build_form_class(compiled, options, field_types, with_attachments=False):
    """Return a FlaskForm subclass for *compiled* (CSRF included)."""
    attrs = {}
    for section in compiled["sections"]:
        key = section["key"]
        if section["type"] == "fields":
            attrs.update(_fields_of(section["fields"], compiled, options, field_types))
        elif section["type"] == "repeat":
            row_class = type(f"Row_{key}", (Form,),
                             _fields_of(section["fields"], compiled, options, field_types))
            attrs[key] = FieldList(FormField(row_class), min_entries=0,
                                   max_entries=section["max"])
        else:
            pairs = _choice_pairs(compiled, section["choices"], options.locale)
            row_fields = {row["key"]: RadioField(text(row["label"], options.locale), choices=pairs,
                                                 validate_choice=False)
                          for row in section["rows"]}
            attrs[key] = FormField(type(f"Checklist_{key}", (Form,), row_fields))
    if with_attachments:
        attrs[CONTRACT_FIELD] = SelectField(
            "contract", choices=[EMPTY] + [SelectChoice(str(c.id), f"{c.number} · {c.title}")
                                           for c in options.contracts], validate_choice=False)
        attrs[TICKET_FIELD] = StringField("ticket", render_kw={"inputmode": "numeric"})
    return type(f"Form_{compiled['key']}_v{compiled['version']}", (FlaskForm,), attrs)


def _tz():
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def _to_input(spec, value):
    """A stored value as the browser input shows it."""
    if value is None:
        return None
    kind = spec["type"]
    if kind == "datetime" and isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(_tz())
        return moment.strftime("%Y-%m-%dT%H:%M")
    if kind in FILE_TYPES:
        return None
    if kind == "multiselect":
        return [str(v) for v in value]
    if kind == "boolean":
        return bool(value)
    return str(value)


def initial_data(compiled, data):
    """Map stored *data* to the structure the built form takes as `data=`."""
    out = {}
    for section in compiled["sections"]:
        key = section["key"]
        if section["type"] == "fields":
            for spec in section["fields"]:
                if spec["type"] not in ("computed", "note") and key is not None:
                    out[spec["key"]] = _to_input(spec, data.get(spec["key"]))
        elif section["type"] == "repeat":
            out[key] = [{spec["key"]: _to_input(spec, (row or {}).get(spec["key"]))
                         for spec in section["fields"] if spec["type"] not in ("computed", "note")}
                        for row in (data.get(key) or [])]
        else:
            answers = data.get(key) or {}
            out[key] = {row["key"]: str(answers[row["key"]]) if row["key"] in answers else None
                        for row in section["rows"]}
    return out


def _from_input(spec, field, previous, user, settings, path, problems):
    kind = spec["type"]
    if kind in ("file", "image"):
        uploads = [f for f in (field.data or []) if getattr(f, "filename", "")]
        if not uploads:
            return previous
        limit = int(float(spec.get("max_size_mb", settings.get("max_upload_mb", 10))) * 1024 * 1024)
        accept = spec.get("accept") or (["image/*"] if kind == "image" else [])
        refs = []
        for storage in uploads[:spec.get("max_files", 1)]:
            try:
                refs.append(files.store_upload(storage, user, limit, accept).ref())
            except files.FileRefused as refused:
                problems.append(Problem(path, refused.message))
        return refs or previous
    if kind == "signature":
        if not field.data:
            return previous
        try:
            return files.store_signature(field.data, user).ref()
        except files.FileRefused as refused:
            problems.append(Problem(path, refused.message))
            return previous
    value = field.data
    if kind == "boolean":
        return bool(value)
    if kind == "datetime" and isinstance(value, str) and value.strip():
        try:
            moment = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_tz())
        return moment.isoformat()
    return value


def extract_data(form, compiled, user, previous=None):
    """Return (data, problems): the raw submitted values (files stored) for server evaluation."""
    previous = previous or {}
    settings = compiled.get("settings", {})
    problems, data = [], {}
    for section in compiled["sections"]:
        key = section["key"]
        if section["type"] == "fields":
            for spec in section["fields"]:
                if spec["key"] in form._fields:
                    data[spec["key"]] = _from_input(spec, form[spec["key"]],
                                                    previous.get(spec["key"]), user, settings,
                                                    spec["key"], problems)
        elif section["type"] == "repeat":
            rows, old_rows = [], previous.get(key) or []
            for index, entry in enumerate(form[key].entries):
                old = old_rows[index] if index < len(old_rows) and isinstance(
                    old_rows[index], dict) else {}
                row = {}
                for spec in section["fields"]:
                    if spec["key"] in entry.form._fields:
                        row[spec["key"]] = _from_input(spec, entry.form[spec["key"]],
                                                       old.get(spec["key"]), user, settings,
                                                       f"{key}[{index}].{spec['key']}", problems)
                rows.append(row)
            data[key] = rows
        else:
            sub = form[key].form
            data[key] = {row["key"]: sub[row["key"]].data for row in section["rows"]
                         if sub[row["key"]].data not in (None, "", "None")}
    return data, problems


def row_command(form, compiled, command):
    """Apply an add/remove-row button ("add:tasks", "remove:tasks:2"); return True if applied."""
    parts = (command or "").split(":")
    repeats = {s["key"]: s for s in compiled["sections"] if s["type"] == "repeat"}
    if len(parts) < 2 or parts[1] not in repeats:
        return False
    field = form[parts[1]]
    if parts[0] == "add" and len(field.entries) < repeats[parts[1]]["max"]:
        field.append_entry()
        return True
    if parts[0] == "remove" and len(parts) == 3 and parts[2].isdigit() \
            and int(parts[2]) < len(field.entries):
        field.pop_entry(int(parts[2]))
        return True
    return False


def ensure_min_rows(form, compiled):
    """Show at least one row (or the section's minimum) in every repeat section."""
    for section in compiled["sections"]:
        if section["type"] == "repeat":
            field = form[section["key"]]
            while len(field.entries) < max(section["min"], 1) and \
                    len(field.entries) < section["max"]:
                field.append_entry()


def problem_map(problems, locale):
    """{path: [message, …]} for the template; also under "" for problems without a field."""
    out = {}
    for problem in problems:
        out.setdefault(problem.field or "", []).append(text(problem.message, locale))
    return out
