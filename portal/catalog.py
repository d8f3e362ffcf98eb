"""Keep the message catalogs in step with the code: ``python -m portal.catalog``.

Extracts every marked string into messages.pot, merges it into each language's .po, and
compiles the .mo files that ship in the repository (a plain pip install has no compile step).
"""

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
KEYWORDS = ("_", "_l", "gettext", "lazy_gettext", "ngettext:1,2", "lazy_ngettext:1,2")


def pybabel(*args):
    """Run one pybabel command in-process."""
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(output):
    """Write the template of every translatable string in the product to *output*."""
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    pybabel("extract", "-F", str(TRANSLATIONS / "babel.cfg"), *keywords, "--no-location", "--sort-output",
            "-o", str(output), str(ROOT))


def main():
    template = TRANSLATIONS / "messages.pot"
    extract(template)
    pybabel("update", "-i", str(template), "-d", str(TRANSLATIONS), "--no-fuzzy-matching", "--ignore-obsolete")
    pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
    template.unlink()


if __name__ == "__main__":
    sys.exit(main())
