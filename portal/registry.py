"""Name-keyed registries: the one way built-ins and plugins contribute things."""


class DuplicateName(KeyError):
    """A second entry tried to take a name that is already registered."""


class UnknownName(KeyError):
    """A name was looked up that nobody registered."""


class Registry:
    """An ordered mapping of stable names to entries that refuses silent overwrites."""

    def __init__(self, kind):
        self.kind = kind
        self._entries = {}

    def add(self, name, entry):
        """Register *entry* under *name*; raise DuplicateName if the name is taken."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} needs a non-empty string name, got {name!r}")
        if name in self._entries:
            raise DuplicateName(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def get(self, name):
        """Return the entry registered under *name*; raise UnknownName otherwise."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownName(f"unknown {self.kind} {name!r}") from None

    def __contains__(self, name):
        return name in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)

    def items(self):
        """Return (name, entry) pairs in registration order."""
        return list(self._entries.items())

    def names(self):
        """Return the registered names in registration order."""
        return list(self._entries)
