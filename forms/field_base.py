"""The field type base class and the helpers every field type shares."""

from forms.errors import msg

COMMON_KEYS = frozenset({"key", "type", "label", "hint", "required", "required_if", "visible_if",
                         "readonly", "readonly_if", "default", "validate", "store"})
DISPLAY_KEYS = frozenset({"key", "type", "label", "hint", "visible_if"})
MAX_NUMBER = 10**15


class Invalid(Exception):
    """A submitted value was refused; carries a bilingual message."""

    def __init__(self, message):
        super().__init__(message["en"])
        self.message = message


def invalid(zh, en, **params):
    raise Invalid(msg(zh, en, **params))


def is_empty(value):
    """Return True for None, empty text, an empty list or an empty object."""
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class FieldType:
    """Base field type: accepts the common keys and any JSON value."""

    name = "base"
    keys = COMMON_KEYS
    has_value = True
    choices = None  # None: no choice list; "required" or "optional"

    def check_spec(self, spec):
        """Return [(key, message)] for type-specific keys with bad values."""
        return []

    def clean(self, value, spec, choices=None):
        """Return the cleaned JSON value for *value* (None when empty) or raise Invalid."""
        return None if is_empty(value) else value


def whole(value):
    """Return *value* as an int when it is one (or a string of digits), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 16:
        return int(value.strip())
    return None
