"""Keep each package's message catalog in step with its code: ``python -m portal.catalog [PACKAGE_DIR …]``.

Every package that owns a ``translations/`` folder (portal, forms, knowledge_base, a feature
package, a plugin) has its own catalog, so features and plugins ship their own strings. The
command extracts the package's marked strings (skipping sub-packages with their own catalog),
merges them into each language's .po, and compiles the .mo files that ship in the repository
(a plain pip install has no compile step).
"""

import os
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("zh_Hans_CN", "en")
KEYWORDS = {
    "_": None, "_l": None, "gettext": None, "lazy_gettext": None,
    "ngettext": (1, 2), "lazy_ngettext": (1, 2),
}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def catalog_dirs():
    """Return every package folder in the product that owns a translations/ folder."""
    found = []
    for top in ("portal", "forms", "knowledge_base", "plugins"):
        for path, dirs, _files in os.walk(ROOT / top):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "translations")]
            if (Path(path) / "translations").is_dir():
                found.append(Path(path))
    return sorted(found)


def extract_package(package_dir):
    """Return a Catalog of the strings marked in *package_dir*, without sub-packages that own a catalog."""
    package_dir = Path(package_dir).resolve()
    owners = {path for path in catalog_dirs() if path != package_dir}

    def keep(dirname):
        resolved = Path(dirname).resolve()
        return resolved.name not in ("__pycache__", "translations") and resolved not in owners

    catalog = Catalog(project="weibao")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(package_dir), METHODS, keywords=KEYWORDS, directory_filter=keep
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def pybabel(*args):
    """Run one pybabel command in-process."""
    CommandLineInterface().run(["pybabel", "-q", *args])


def update(package_dir):
    """Extract, merge and compile the catalogs of one package."""
    package_dir = Path(package_dir).resolve()
    translations = package_dir / "translations"
    template = translations / "messages.pot"
    with open(template, "wb") as handle:
        write_po(handle, extract_package(package_dir), omit_header=False, sort_output=True, no_location=True)
    for language in LANGUAGES:
        if (translations / language / "LC_MESSAGES" / "messages.po").exists():
            pybabel("update", "-i", str(template), "-d", str(translations), "-l", language,
                    "--no-fuzzy-matching", "--ignore-obsolete")
        else:
            pybabel("init", "-i", str(template), "-d", str(translations), "-l", language)
    pybabel("compile", "-d", str(translations))
    template.unlink()


def main(argv):
    targets = [Path(arg).resolve() for arg in argv] or catalog_dirs()
    for package_dir in targets:
        (package_dir / "translations").mkdir(exist_ok=True)
        update(package_dir)
        print(f"updated {package_dir.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
