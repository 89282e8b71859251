"""Tests over the whole public API: layout, ``__all__``, docstrings, version.

The objects are found from the ``__all__`` of ``skrank`` and its subpackages,
so every new public function or class is covered without editing this file.
"""

import importlib
import importlib.metadata
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import skrank

SUBPACKAGES = [
    "skrank.datasets",
    "skrank.estimators",
    "skrank.losses",
    "skrank.metrics",
    "skrank.model_selection",
    "skrank.preprocessing",
    "skrank.utils",
]
PUBLIC_MODULES = ["skrank", *SUBPACKAGES]
PACKAGE_DIR = Path(skrank.__file__).resolve().parent

# numpydoc checks left out for public functions and classes, with the reason:
# - GL01, GL02: scikit-learn's layout starts the summary on the line of the
#   opening quotes and allows short docstrings without a trailing blank line.
# - RT02: scikit-learn names returned values (``ndcg : float``), which numpydoc
#   only allows for several returned values.
# - ES01, SA01: an extended summary and a See Also section are welcome, not
#   required.
IGNORED_CHECKS = {"GL01", "GL02", "RT02", "ES01", "SA01"}
# Methods: scikit-learn's policy; Examples live in the class docstring, and a
# one-line summary may stand for a Returns section.
IGNORED_METHOD_CHECKS = IGNORED_CHECKS | {"EX01", "RT01", "SS05", "SA04"}


def _import(name):
    try:
        return importlib.import_module(name)
    except Exception:  # reported by test_public_module_imports
        return None


def _public_objects():
    """``(qualified name, object)`` of every function and class in an ``__all__``."""
    seen = set()
    for module_name in PUBLIC_MODULES:
        module = _import(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # subpackages, __version__, scorer instances
            if id(obj) in seen:  # re-exported, e.g. skrank.NeuralRanker
                continue
            seen.add(id(obj))
            yield f"{module_name}.{name}", obj


def _public_methods():
    """Public methods and properties that skrank's public classes define."""
    for qualname, cls in _public_objects():
        if not inspect.isclass(cls):
            continue
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if not (inspect.isfunction(member) or isinstance(member, property)):
                continue
            if not (member.__doc__ or "").strip() and _overrides(cls, name):
                continue  # e.g. forward: it inherits the base class's docs
            yield f"{qualname}.{name}", cls, name


def _overrides(cls, name):
    """Whether a method redefines one of a base class (it inherits the docs)."""
    return any(hasattr(base, name) for base in cls.__mro__[1:])


PUBLIC_OBJECTS = dict(_public_objects())
PUBLIC_METHODS = sorted(qualname for qualname, _, _ in _public_methods())


def _is_private_module(module_name):
    return any(part.startswith("_") for part in module_name.split("."))


# -- layout ------------------------------------------------------------------


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_imports(module_name):
    importlib.import_module(module_name)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_module_docstring_and_all(module_name):
    module = importlib.import_module(module_name)
    assert module.__doc__ and module.__doc__.strip(), (
        f"{module_name} has no module docstring."
    )
    assert isinstance(getattr(module, "__all__", None), (list, tuple)), (
        f"{module_name} has no explicit __all__ list."
    )
    names = list(module.__all__)
    assert all(isinstance(name, str) for name in names)
    duplicated = sorted({name for name in names if names.count(name) > 1})
    assert not duplicated, f"{module_name}.__all__ repeats {duplicated}."
    missing = [name for name in names if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ lists names it lacks: {missing}."


def test_top_level_all_lists_every_subpackage():
    for module_name in SUBPACKAGES:
        assert module_name.split(".")[1] in skrank.__all__


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_are_defined_in_private_modules(module_name):
    # Implementation lives in _private.py files; public modules only re-export.
    module = importlib.import_module(module_name)
    misplaced = {}
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.ismodule(obj) or isinstance(obj, (str, int, float, tuple)):
            continue
        defined_in = getattr(obj, "__module__", None) or type(obj).__module__
        if not defined_in.startswith("skrank"):
            continue  # a third-party name re-exported on purpose
        if not _is_private_module(defined_in):
            misplaced[name] = defined_in
    assert not misplaced, (
        f"Public names of {module_name} are defined in public modules: {misplaced}. "
        "Move them into a private _module.py file and re-export them."
    )


def test_package_ships_no_tests():
    # Tests live in the top-level tests/ folder, never inside the package.
    inside = sorted(
        str(path.relative_to(PACKAGE_DIR.parent))
        for path in PACKAGE_DIR.rglob("*")
        if path.name == "tests" or path.name.startswith("test_")
    )
    assert not inside, f"Tests inside the package: {inside}"


def test_no_public_module_files():
    # Every Python file of the package is private: __init__.py, __main__.py
    # or _name.py.
    public_files = [
        str(path.relative_to(PACKAGE_DIR.parent))
        for path in PACKAGE_DIR.rglob("*.py")
        if not path.name.startswith("_")
    ]
    assert not public_files, (
        f"Public module files {sorted(public_files)}: name them _name.py and "
        "re-export their public names from the subpackage's __init__.py."
    )


def test_version_matches_the_installed_metadata():
    assert isinstance(skrank.__version__, str)
    try:
        installed = importlib.metadata.version("skrank")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("skrank is not installed (pip install -e .), no metadata to match")
    assert skrank.__version__ == installed


# -- docstrings ----------------------------------------------------------------


def _parameters(obj):
    """The documented-worthy parameter names of a function or class."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    if inspect.isclass(obj) and "__init__" not in vars(obj):
        # an inherited constructor is documented where it is defined
        if not any("__init__" in vars(base) for base in obj.__mro__[1:-1]):
            return []
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [
        name
        for name, p in signature.parameters.items()
        if name not in ("self", "cls")
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


_SECTION = re.compile(r"^\s*(\w[\w ]*)\n\s*-{3,}\s*$", re.MULTILINE)


def _sections(doc):
    """Map numpydoc section titles to their text (a light parser)."""
    matches = list(_SECTION.finditer(doc))
    return {
        m.group(1).strip(): doc[
            m.end() : matches[i + 1].start() if i + 1 < len(matches) else len(doc)
        ]
        for i, m in enumerate(matches)
    }


def _light_docstring_errors(obj):
    """Errors found without numpydoc: Parameters and Examples sections."""
    doc = inspect.getdoc(obj)
    if not doc:
        return ["GL08 no docstring"]
    errors = []
    sections = _sections(doc)
    parameters = _parameters(obj)
    if parameters:
        text = sections.get("Parameters", "")
        documented = set(re.findall(r"^(\*{0,2}\w+)\s*:", text, re.MULTILINE))
        documented |= {
            name.strip()
            for line in re.findall(r"^(\w+(?:\s*,\s*\w+)+)\s*:", text, re.MULTILINE)
            for name in line.split(",")
        }
        undocumented = [p for p in parameters if p not in documented]
        if undocumented:
            errors.append(f"PR01 parameters not documented: {undocumented}")
    if not _is_exception(obj) and ">>>" not in sections.get("Examples", ""):
        errors.append("EX01 no Examples section with a doctest")
    return errors


def _is_exception(obj):
    return inspect.isclass(obj) and issubclass(obj, (Warning, Exception))


def _numpydoc_errors(qualname, ignored):
    from numpydoc.validate import validate

    return [
        f"{code} {message}"
        for code, message in validate(qualname)["errors"]
        if code not in ignored
    ]


def _format(qualname, errors):
    return f"{qualname} has docstring problems:\n  " + "\n  ".join(errors)


@pytest.mark.parametrize("qualname", sorted(PUBLIC_OBJECTS))
def test_public_docstring(qualname):
    obj = PUBLIC_OBJECTS[qualname]
    try:
        import numpydoc.validate  # noqa: F401
    except ImportError:
        errors = _light_docstring_errors(obj)
    else:
        ignored = set(IGNORED_CHECKS)
        if _is_exception(obj):
            # warnings and errors are raised, not called: no Examples needed
            ignored |= {"EX01"}
        errors = _numpydoc_errors(qualname, ignored)
    assert not errors, _format(qualname, errors)


@pytest.mark.parametrize("qualname", PUBLIC_METHODS)
def test_public_method_docstring(qualname):
    # Public methods and properties a public class defines. One that
    # overrides a base class's method without a docstring of its own
    # (``forward``, ``per_list``) inherits the base's docs and is left out.
    pytest.importorskip("numpydoc")
    errors = _numpydoc_errors(qualname, IGNORED_METHOD_CHECKS)
    assert not errors, _format(qualname, errors)


def test_light_parser_finds_problems():
    # the fallback used without numpydoc must catch what it claims to
    def documented(a, b=1):
        """Do something.

        Parameters
        ----------
        a, b : int
            Numbers.

        Examples
        --------
        >>> documented(1)
        """

    def undocumented(a, *, key=None):
        """Do something."""

    assert _light_docstring_errors(documented) == []
    errors = _light_docstring_errors(undocumented)
    assert errors[0].startswith("PR01") and "key" in errors[0]
    assert errors[1].startswith("EX01")
    assert _light_docstring_errors(lambda: None) == ["GL08 no docstring"]


def test_numpy_layers_import_without_torch():
    # Metrics, scorers, datasets and the comparison need no torch: a LightGBM
    # user must not pay for importing it. Checked in a fresh interpreter.
    code = (
        "import sys, skrank, skrank.metrics, skrank.datasets, "
        "skrank.model_selection, skrank.preprocessing, skrank.utils, "
        "skrank.ensemble\n"
        "loaded = sorted(m for m in ('torch', 'skorch') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
        "skrank.NeuralRanker\n"
        "assert 'torch' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
