"""Server-authoritative evaluation of a submission against a compiled definition.

Values are cleaned by their field types, computed values are evaluated in dependency order,
visibility is re-evaluated until it settles (hidden values are dropped), then required,
required_if, validate rules, row counts, checklist answers and cross-field validations are
checked. Problem paths use 0-based row indexes: `tasks[0].person_days`, checklist answers
`server_checks.cpu`. Submitted values for computed and note fields are ignored; any other
unknown key is a problem.
"""

import dataclasses

from forms.errors import ExpressionError
from forms.errors import Problem
from forms.errors import msg
from forms.expressions import evaluate
from forms.fields import Invalid
from forms.fields import builtin_field_types
from forms.fields import is_empty

MAX_PASSES = 4


def evaluate_submission(compiled, data, ctx, state=None, *, previous=None, draft=False,
                        field_types=None):
    """Return (cleaned_data, computed, problems) for *data* submitted to *compiled*.

    *previous* holds the stored data when editing (readonly fields keep it); *draft* skips
    required checks and minimum row counts.
    """
    run = _Run(compiled, ctx, state, previous or {}, draft, field_types or builtin_field_types())
    return run.evaluate(data)


def hidden_paths(compiled, data, ctx, state=None, *, field_types=None):
    """Return the field keys and row paths (`tasks[0].x`) that *data* leaves hidden."""
    run = _Run(compiled, ctx, state, {}, True, field_types or builtin_field_types())
    run.evaluate(data)
    return run.hidden


class _Run:
    def __init__(self, compiled, ctx, state, previous, draft, field_types):
        self.form = compiled
        self.ctx = ctx
        self.state = state if state is not None else compiled["workflow"]["initial"]
        self.previous = previous
        self.draft = draft
        self.types = field_types
        self.problems = []
        self.runtime = []
        self.invalid = set()  # paths whose submitted value was refused
        self.hidden = frozenset()
        self.repeats = {s["key"] for s in compiled["sections"] if s["type"] == "repeat"}

    def problem(self, path, message, runtime=False):
        entry = (path, message)
        target = self.runtime if runtime else self.problems
        if entry not in target:
            target.append(entry)

    def evaluate(self, data):
        if not isinstance(data, dict):
            self.problem("", msg("提交的数据必须是对象", "the submitted data must be an object"))
            return {}, {}, self.result()
        values = self.clean_all(data)
        hidden = frozenset()
        for _ in range(MAX_PASSES):
            self.runtime = []
            current = self.drop(values, hidden)
            computed = self.compute(current, hidden)
            now_hidden = self.visibility(self.scope(current, computed), current)
            if now_hidden == hidden:
                break
            hidden = now_hidden
        self.hidden = hidden
        self.check(current, computed, hidden)
        computed = {key: value for key, value in computed.items() if key not in hidden}
        return current, computed, self.result()

    def result(self):
        return [Problem(path, message) for path, message in self.problems + self.runtime]

    def eval(self, expr, scope, path, hidden=frozenset(), current=None):
        ctx = dataclasses.replace(self.ctx, form=self.form, data=current, hidden=hidden)
        try:
            return evaluate(expr, scope, ctx)
        except ExpressionError as exc:
            self.problem(path, exc.message, runtime=True)
            return None

    def scope(self, values, computed):
        return {**values, **computed, "state": self.state}

    def clean_value(self, spec, source, path, scope):
        """Clean one submitted value, applying readonly and defaults."""
        key = spec["key"]
        if spec.get("readonly") or key not in source:
            if spec.get("readonly") and key in self.previous:
                return self.previous[key]
            default = spec.get("default")
            if isinstance(default, dict) and "source" in (default.get("expr") or {}):
                return self.eval(default["expr"], scope, path)
            return default
        ftype = self.types.get(spec["type"])
        try:
            return ftype.clean(source[key], spec, self.form["choices"].get(spec.get("choices")))
        except Invalid as exc:
            self.problem(path, exc.message)
            self.invalid.add(path)
            return None

    def clean_all(self, data):
        values, known = {}, set()
        for section in self.form["sections"]:
            if section["type"] == "fields":
                for spec in section["fields"]:
                    known.add(spec["key"])
                    if self.types.get(spec["type"]).has_value:
                        values[spec["key"]] = self.clean_value(spec, data, spec["key"], {})
            elif section["type"] == "repeat":
                known.add(section["key"])
                values[section["key"]] = self.clean_rows(section, data.get(section["key"]))
            else:
                known.add(section["key"])
                values[section["key"]] = self.clean_checklist(section, data.get(section["key"]))
        known |= {entry["key"] for entry in self.form["computed"]}
        for key in data:
            if key not in known:
                self.problem(str(key), msg("未知字段 '{k}'", "unknown field '{k}'", k=key))
        self.apply_readonly_if(values)
        return values

    def clean_rows(self, section, raw):
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(section["key"], msg("必须是行的列表", "must be a list of rows"))
            return []
        rows = []
        for index, row in enumerate(raw[:1000]):
            path = f"{section['key']}[{index}]"
            if not isinstance(row, dict):
                self.problem(path, msg("每一行必须是对象", "each row must be an object"))
                row = {}
            specs = {spec["key"]: spec for spec in section["fields"]}
            for key in row:
                if key not in specs:
                    self.problem(f"{path}.{key}", msg("未知字段 '{k}'", "unknown field '{k}'", k=key))
            rows.append({key: self.clean_value(spec, row, f"{path}.{key}", {})
                         for key, spec in specs.items() if self.types.get(spec["type"]).has_value})
        return rows

    def clean_checklist(self, section, raw):
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(section["key"], msg("必须是 检查项: 结果 的对象", "must map row keys to answers"))
            return {}
        rows = {row["key"] for row in section["rows"]}
        choices = self.form["choices"].get(section["choices"], [])
        answers = {}
        for key, value in raw.items():
            path = f"{section['key']}.{key}"
            if key not in rows:
                self.problem(path, msg("未知检查项 '{k}'", "unknown checklist row '{k}'", k=key))
                continue
            try:
                cleaned = self.types.get("select").clean(value, {}, choices)
            except Invalid as exc:
                self.problem(path, exc.message)
                continue
            if cleaned is not None:
                answers[key] = cleaned
        return answers

    def apply_readonly_if(self, values):
        scope = self.scope(values, {})
        for section in self.form["sections"]:
            for spec in section.get("fields", []) if section["type"] == "fields" else []:
                if spec.get("readonly_if") and self.eval(spec["readonly_if"], scope, spec["key"]):
                    values[spec["key"]] = self.previous.get(spec["key"], spec.get("default"))

    def drop(self, values, hidden):
        current = {}
        for key, value in values.items():
            if key in hidden:
                continue
            if key in self.repeats:
                value = [{k: v for k, v in row.items() if f"{key}[{i}].{k}" not in hidden}
                         for i, row in enumerate(value)]
            current[key] = value
        return current

    def compute(self, current, hidden):
        for section in self.form["sections"]:
            if section["type"] != "repeat" or not section.get("computed_order"):
                continue
            specs = {spec["key"]: spec for spec in section["fields"]}
            top = self.scope(current, {})
            for index, row in enumerate(current.get(section["key"], [])):
                for key in section["computed_order"]:
                    scope = {**top, "row": row, "form": top}
                    path = f"{section['key']}[{index}].{key}"
                    row[key] = self.eval(specs[key]["expr"], scope, path, hidden, current)
        exprs = {entry["key"]: entry["expr"] for entry in self.form["computed"]}
        for section in self.form["sections"]:
            for spec in section.get("fields", []) if section["type"] == "fields" else []:
                if spec["type"] == "computed":
                    exprs[spec["key"]] = spec["expr"]
        computed = {}
        for key in self.form["computed_order"]:
            if exprs.get(key):
                computed[key] = self.eval(exprs[key], self.scope(current, computed), key, hidden,
                                          current)
        return computed

    def visibility(self, scope, current):
        hidden = set()

        def shown(expr, path, where=scope):
            return not expr or bool(self.eval(expr, where, path, frozenset(hidden), current))

        for section in self.form["sections"]:
            kind, key = section["type"], section["key"]
            if not shown(section.get("visible_if"), section["path"]):
                hidden |= {f["key"] for f in section["fields"]} if kind == "fields" else {key}
            elif kind == "fields":
                hidden |= {f["key"] for f in section["fields"]
                           if not shown(f.get("visible_if"), f["key"])}
            elif kind == "repeat":
                for index, row in enumerate(current.get(key, [])):
                    row_scope = {**scope, "row": row, "form": scope}
                    paths = {f"{key}[{index}].{f['key']}": f.get("visible_if")
                             for f in section["fields"]}
                    hidden |= {path for path, expr in paths.items()
                               if not shown(expr, path, row_scope)}
        return frozenset(hidden)

    def check(self, current, computed, hidden):
        """Check required-ness, validate rules, row counts and cross-field validations."""
        scope = self.scope(current, computed)
        for section in self.form["sections"]:
            kind, key = section["type"], section["key"]
            if kind == "fields":
                for spec in section["fields"]:
                    if spec["key"] not in hidden:
                        self.check_field(spec, current.get(spec["key"]), scope, spec["key"], hidden)
            elif key in hidden:
                continue
            elif kind == "repeat":
                self.check_rows(section, current.get(key, []), scope, hidden)
            elif section["required"] and not self.draft:
                answers = current.get(key, {})
                for row in section["rows"]:
                    if row["key"] not in answers:
                        self.problem(f"{key}.{row['key']}",
                                     msg("此项必须检查", "this item must be checked"))
        for rule in self.form["validations"]:
            outcome = self.eval(rule["expr"], scope, rule["field"], hidden, current)
            if outcome is not None and not outcome:
                self.problem(rule["field"], rule["message"])

    def check_rows(self, section, rows, scope, hidden):
        key = section["key"]
        if len(rows) < section["min"] and not self.draft:
            self.problem(key, msg("至少需要 {n} 行", "needs at least {n} rows", n=section["min"]))
        if len(rows) > section["max"]:
            self.problem(key, msg("最多 {n} 行", "allows at most {n} rows", n=section["max"]))
        for index, row in enumerate(rows):
            row_scope = {**scope, "row": row, "form": scope}
            for spec in section["fields"]:
                path = f"{key}[{index}].{spec['key']}"
                if path not in hidden:
                    self.check_field(spec, row.get(spec["key"]), row_scope, path, hidden)

    def check_field(self, spec, value, scope, path, hidden):
        if not self.types.get(spec["type"]).has_value:
            return
        required = spec.get("required") or (
            spec.get("required_if") and self.eval(spec["required_if"], scope, path, hidden))
        if required and not self.draft and path not in self.invalid:
            if spec["type"] == "boolean" and value is not True:
                self.problem(path, msg("必须勾选", "must be checked (true)"))
            elif is_empty(value):
                self.problem(path, msg("此项必填", "this field is required"))
        if is_empty(value):
            return
        for rule in spec.get("validate", []):
            outcome = self.eval(rule["expr"], {**scope, "value": value}, path, hidden)
            if outcome is not None and not outcome:
                self.problem(path, rule["message"])
