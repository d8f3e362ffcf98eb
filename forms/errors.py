"""Error types and located problems shared by every part of the forms engine.

Messages are ``{"zh": …, "en": …}`` dicts (Chinese first); ``text()`` picks one for a locale.
Paths are dotted with 0-based indexes, like ``tasks[0].person_days`` or
``sections[1].fields[0].type``; line and column are 1-based.
"""

from dataclasses import dataclass


def msg(zh, en, **params):
    """Build a bilingual message, formatting both variants with *params*."""
    return {"zh": zh.format(**params), "en": en.format(**params)}


def text(message, locale="zh"):
    """Return the variant of *message* for *locale* (falls back to zh, then en)."""
    if not isinstance(message, dict):
        return str(message)
    base = (locale or "zh").replace("-", "_").split("_")[0]
    for candidate in (locale, base, "zh", "en"):
        if candidate in message:
            return str(message[candidate])
    return str(next(iter(message.values()), ""))


def format_path(path):
    """Render a path tuple such as ("tasks", 0, "days") as "tasks[0].days"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition or a submission, with where it is."""

    field: str
    message: dict
    line: int | None = None
    column: int | None = None

    def as_detail(self, locale="zh"):
        """Return the API error detail: field, message text, messages, line, column."""
        detail = {"field": self.field, "message": text(self.message, locale)}
        if isinstance(self.message, dict):
            detail["messages"] = dict(self.message)
        if self.line is not None:
            detail["line"] = self.line
            detail["column"] = self.column
        return detail


class FormError(Exception):
    """A definition or document was refused; *details* lists every Problem found."""

    def __init__(self, code, message, details=()):
        self.code = code
        self.message = message
        self.details = list(details)
        super().__init__(text(message, "en"))

    def as_dict(self, locale="zh"):
        """Return the API error body {"error": {code, message, details}}."""
        return {
            "error": {
                "code": self.code,
                "message": text(self.message, locale),
                "details": [problem.as_detail(locale) for problem in self.details],
            }
        }


class ExpressionError(FormError):
    """An expression was refused when checked, or failed when evaluated."""

    def __init__(self, message):
        super().__init__("invalid_expression", message)
