"""The registries a definition is compiled and evaluated against."""

from dataclasses import dataclass
from dataclasses import field as dc_field

from forms.fields import builtin_field_types
from forms.functions import builtin_functions

DEFAULT_ACTIONS = ("quota.consume", "ticket.create", "notify")


@dataclass(frozen=True)
class Environment:
    """Field types, expression functions and action names a definition may use."""

    field_types: object = dc_field(default_factory=builtin_field_types)
    functions: object = dc_field(default_factory=builtin_functions)
    actions: frozenset = frozenset(DEFAULT_ACTIONS)


def default_environment(actions=DEFAULT_ACTIONS):
    """Return an Environment with the built-in field types and functions and *actions*."""
    return Environment(actions=frozenset(actions))
