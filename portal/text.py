"""What text the product can store faithfully on every database."""

import re

from flask_babel import gettext as _

# C0 controls other than tab, newline and carriage return, DEL, and lone UTF-16 surrogates
# cannot be stored faithfully everywhere (PostgreSQL refuses NUL; UTF-8 refuses surrogates).
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(value, max_length=None, multiline=True):
    """Return a translated message when *value* cannot be stored as text, else None."""
    if not isinstance(value, str):
        return _("must be a string")
    if UNSTORABLE.search(value):
        return _("contains control characters or invalid Unicode that cannot be stored")
    if not multiline and ("\n" in value or "\r" in value):
        return _("must be a single line")
    if max_length is not None and len(value) > max_length:
        return _("must be at most %(n)d characters", n=max_length)
    return None
