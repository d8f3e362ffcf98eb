"""Validate a loaded form definition against the language and compile it to a JSON dict.

Every problem is collected with its document path (and line/column when the definition came
from YAML) and reported at once in one FormError. Sections and fields are handled here; the
form-level parts (computed order, workflow, actions, numbering, settings, migrations) in
forms.rules.
"""

import keyword
import re

from forms import rules
from forms import sections
from forms.environment import Environment
from forms.environment import default_environment
from forms.errors import ExpressionError
from forms.errors import FormError
from forms.errors import Problem
from forms.errors import format_path
from forms.errors import msg
from forms.expressions import Names
from forms.expressions import compile_expression
from forms.loader import load_yaml
from forms.loader import locate

TOP_KEYS = ("formdef", "key", "version", "title", "description", "category", "attach_to",
            "numbering", "settings", "choices", "sections", "computed", "validations",
            "workflow", "actions", "migrations")
ATTACH_TO = ("ticket", "contract", "none")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = frozenset({"row", "form", "state", "value"})
_LOCALE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")


def compile_yaml(source, env=None):
    """Load YAML *source* and compile it; raise FormError listing every located problem."""
    loaded = load_yaml(source)
    return compile_definition(loaded.data, loaded.marks, env)


def compile_definition(doc, marks=None, env=None):
    """Validate *doc* (plain data) and return the compiled JSON-serialisable definition."""
    return Compiler(marks or {}, env or default_environment()).compile(doc)


class Compiler:
    """Collects problems while compiling one definition."""

    def __init__(self, marks, env: Environment):
        self.marks = marks
        self.env = env
        self.problems = []
        self.pending = []  # (path, target dict, target key, source, names kind)
        self.top = {}  # form-level name -> path where it is defined
        self.rows = {}  # repeat section key -> {row field key: path}
        self.repeat_at = {}  # ("sections", index) -> repeat section key
        self.choice_names = frozenset()

    def add(self, path, message):
        """Record a problem at *path* (a tuple)."""
        self.problems.append((tuple(path), message))

    def fail(self, path, zh, en, **params):
        self.add(path, msg(zh, en, **params))

    def compile(self, doc):
        if not isinstance(doc, dict):
            self.fail((), "定义必须是一个映射（键: 值）", "the definition must be a mapping (key: value)")
            self.raise_problems()
        for key in doc:
            if key not in TOP_KEYS:
                self.fail((key,), "未知的顶层键 '{k}'", "unknown top-level key '{k}'", k=key)
        out = self.header(doc)
        out["choices"] = sections.choices(self, doc.get("choices", {}))
        self.choice_names = frozenset(out["choices"])
        out["sections"] = sections.sections(self, doc.get("sections"), out["choices"])
        out["computed"] = rules.computed_entries(self, doc.get("computed", []))
        self.check_expressions()
        rules.finish(self, doc, out)
        self.raise_problems()
        return out

    def header(self, doc):
        if doc.get("formdef") != 1:
            self.fail(("formdef",), "formdef 必须是 1", "formdef must be 1")
        self.slug(("key",), doc.get("key"))
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.fail(("version",), "version 必须是正整数", "version must be a positive integer")
        attach = doc.get("attach_to", "none")
        if attach not in ATTACH_TO:
            self.fail(("attach_to",), "attach_to 必须是 ticket、contract 或 none",
                      "attach_to must be ticket, contract or none")
        category = doc.get("category", "record")
        self.slug(("category",), category)
        return {
            "formdef": 1, "key": doc.get("key"), "version": version,
            "title": self.label(("title",), doc.get("title"), required=True),
            "description": self.label(("description",), doc.get("description")),
            "category": category, "attach_to": attach,
        }

    def slug(self, path, value, reserved=False):
        """Check a key: lowercase letters, digits and _, not a keyword or reserved name."""
        if not isinstance(value, str) or not KEY.match(value) or keyword.iskeyword(value):
            self.fail(path, "'{v}' 不是有效的键（小写字母开头，仅含小写字母、数字和 _）",
                      "'{v}' is not a valid key (a lowercase letter, then a-z, 0-9 or _)", v=value)
            return False
        if reserved and value in RESERVED:
            self.fail(path, "'{v}' 是保留名称", "'{v}' is a reserved name", v=value)
            return False
        return True

    def label(self, path, value, required=False):
        """Check a label: a non-empty string or a {zh, en, …} map of strings."""
        if value is None:
            if required:
                self.fail(path, "缺少必填项", "this is required")
            return None
        if isinstance(value, str) and 0 < len(value) <= 2000:
            return value
        if isinstance(value, dict) and value and all(
                isinstance(k, str) and _LOCALE.match(k) and isinstance(v, str) and len(v) <= 2000
                for k, v in value.items()):
            return dict(value)
        self.fail(path, "必须是文本或 {{zh: …, en: …}} 映射", "must be text or a {{zh: …, en: …}} map")
        return None

    def mapping(self, path, value, allowed, what):
        """Check *value* is a mapping with only *allowed* keys; return it or {}."""
        if not isinstance(value, dict):
            self.fail(path, "{w}必须是映射", "{w} must be a mapping", w=what)
            return {}
        for key in value:
            if key not in allowed:
                self.fail(path + (key,), "{w}中不允许键 '{k}'", "key '{k}' is not allowed in {w}",
                          w=what, k=key)
        return value

    def flag(self, path, value, default=False):
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, "必须是 true 或 false", "must be true or false")
            return default
        return value

    def declare(self, path, name, rows=None):
        """Claim a form-level name (or a row field name in *rows*); refuse duplicates."""
        table = self.top if rows is None else rows
        if name in table:
            self.fail(path, "重复的字段键 '{k}'（已在 {p} 定义）", "duplicate field key '{k}' (also at {p})",
                      k=name, p=format_path(table[name]))
        else:
            table[name] = path

    def expression(self, path, target, key, source, in_row=False, value=False, names=True):
        """Queue *source* to be checked once every name is known; None sources are skipped."""
        if source is None:
            target.setdefault(key, None)
            return
        target[key] = None
        self.pending.append((path, target, key, source, in_row, value, names))

    def names(self, in_row=False, value=False, section=None):
        return Names(fields=frozenset(self.top), choices=self.choice_names,
                     row=frozenset(self.rows.get(section, {})) if in_row else None,
                     extra=frozenset({"state", "value"} if value else {"state"}),
                     columns={key: frozenset(rows) for key, rows in self.rows.items()})

    def check_expressions(self):
        """Check every queued expression against the now complete name tables."""
        for path, target, key, source, in_row, value, with_names in self.pending:
            section = self.repeat_at.get(path[:2]) if in_row else None
            names = self.names(in_row, value, section) if with_names else None
            try:
                target[key] = compile_expression(source, names, self.env.functions)
            except ExpressionError as exc:
                self.add(path, exc.message)
        self.pending = []

    def raise_problems(self):
        if not self.problems:
            return
        details = []
        for path, message in self.problems:
            line, column = locate(self.marks, path)
            details.append(Problem(format_path(path), message, line, column))
        raise FormError("invalid_form_definition",
                        msg("表单定义有 {n} 处错误", "the form definition has {n} problem(s)",
                            n=len(details)), details)
