"""Finding implementations: built-in names, installed plug-ins, import paths and module files.

A package registers implementations for ``python -m conformance list`` and by-name certification
with an entry point in the group ``conformance.implementations``, e.g. in its pyproject.toml:

    [project.entry-points."conformance.implementations"]
    my_layers = "my_package.layers:implementation"

Only ``resolve`` imports an implementation; the harness calls it in a child process
(conformance/worker.py), never in the process that supervises a run.
"""
from __future__ import annotations

import glob
import importlib
import importlib.util
import os
import sys
from importlib.metadata import entry_points

from conformance.capabilities import Capabilities
from conformance.impls import BUILTIN

ENTRY_POINT_GROUP = "conformance.implementations"
DEFAULT_OBJECT = "implementation"   # the object a module file names when no ":object" is given
# Built-ins that need an optional dependency: {name: the extra (pyproject.toml) and the module it
# installs, of the same name}.
EXTRAS = {"numba": "numba"}


class UnknownImplementation(ValueError):
    """The name or path names nothing that can be found: a usage error, not a failing
    implementation."""


class MissingExtra(UnknownImplementation):
    """A built-in whose optional dependency is not installed."""


def missing_extra(name: str) -> str | None:
    """Why the built-in ``name`` cannot be imported here (the extra it needs is not installed),
    in one line; None when it can (or is no built-in that needs one)."""
    extra = EXTRAS.get(name)
    if extra is None or importlib.util.find_spec(extra) is not None:
        return None
    return (f"the {name} built-in needs the {extra} extra: "
            f"pip install 'cnn-conformance[{extra}]'")


def default_builtins() -> tuple[list[str], dict[str, str]]:
    """(the built-ins a run that names none certifies, {built-in left out: why}): those whose
    extra is not installed are left out."""
    left_out = {name: why for name in BUILTIN if (why := missing_extra(name))}
    return [name for name in BUILTIN if name not in left_out], left_out


def plugins() -> dict[str, tuple[str, str]]:
    """{name: (import path, distribution)} for every installed plug-in."""
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = (ep.value, ep.dist.name if ep.dist else "?")
    return found


def known() -> list[tuple[str, str, str]]:
    """(name, import path, where it comes from) for built-ins and plug-ins."""
    rows = [(name, path, "built-in") for name, path in BUILTIN.items()]
    rows += [(name, path, f"plug-in from {dist}") for name, (path, dist) in plugins().items()
             if name not in BUILTIN]
    return rows


def import_path(spec: str) -> str:
    if spec in BUILTIN:
        return BUILTIN[spec]
    return plugins().get(spec, (spec,))[0]


def pasteable(spec: str) -> tuple[str | None, str]:
    """(import root, spec) under which a fresh ``python -m conformance`` in the current folder
    finds the implementation ``spec`` names, once it has been imported here: a file path made
    absolute; for an import path whose top-level package lies outside site-packages and outside
    the current folder, the folder that holds it (to go on PYTHONPATH), else None."""
    module_file = _module_file(spec)
    if module_file:
        path, attribute = module_file
        return None, os.path.abspath(path) + (f":{attribute}" if attribute else "")
    top = import_path(spec).partition(":")[0].split(".")[0]
    file = getattr(sys.modules.get(top), "__file__", None)
    if not file:
        return None, spec
    root = os.path.dirname(os.path.abspath(file))
    if os.path.basename(file) == "__init__.py":
        root = os.path.dirname(root)
    parts = root.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts or root == os.getcwd():
        return None, spec
    return root, spec


def expand(spec: str) -> list[str]:
    """The implementation specs one command-line argument stands for.

    A folder stands for every ``*.py`` file in it whose name does not start with ``_``, a pattern
    with ``*``, ``?`` or ``[`` for the ``*.py`` files it matches (both sorted); anything else for
    itself. Raises UnknownImplementation when a folder or pattern gives no module.
    """
    if os.path.isdir(spec):
        found = sorted(os.path.join(spec, name) for name in os.listdir(spec)
                       if name.endswith(".py") and not name.startswith("_"))
        what = "folder"
    elif any(c in spec for c in "*?["):
        found = sorted(p for p in glob.glob(spec) if p.endswith(".py") and os.path.isfile(p))
        what = "pattern"
    else:
        return [spec]
    if not found:
        raise UnknownImplementation(f"{what} {spec!r} holds no implementation module (*.py)")
    return found


def _module_file(spec: str) -> tuple[str, str] | None:
    """(file, object) for ``path/to/module.py[:object]``, else None."""
    path, colon, attribute = spec.rpartition(":") if ".py:" in spec else (spec, "", "")
    if not path.endswith(".py"):
        return None
    return path, attribute


def _import_file(spec: str, path: str) -> object:
    """Import ``path/to/name.py`` as module ``name``, its folder first on sys.path (so it can
    import its own helper modules)."""
    if not os.path.isfile(path):
        raise UnknownImplementation(f"no implementation {spec!r}: file {path!r} does not exist")
    folder, name = os.path.split(os.path.abspath(path))
    name = name[:-3]
    sys.path.insert(0, folder)
    module = importlib.import_module(name)
    if os.path.abspath(getattr(module, "__file__", "") or "") != os.path.join(folder, name + ".py"):
        raise UnknownImplementation(f"no implementation {spec!r}: module name {name!r} is taken "
                                    f"by {getattr(module, '__file__', None) or 'a built-in module'}"
                                    f"; rename the file")
    return module


def _import_module(spec: str, module_name: str) -> object:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only a missing module named by the spec is the spec's fault; a dependency the
        # implementation imports and lacks is the implementation's (it propagates).
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            names = ", ".join(name for name, _, _ in known())
            raise UnknownImplementation(
                f"no implementation {spec!r}: no module named {exc.name!r}; expected a known name "
                f"({names}), an import path package.module:object or a file path/module.py"
            ) from None
        raise


def resolve(spec: str):
    """Import the implementation named by ``spec`` and return it.

    ``spec`` is a built-in name (see BUILTIN in impls/), a plug-in name, ``package.module:object``
    (an attribute of a module, e.g. an instance), ``package.module`` (the module itself), or
    ``path/to/module.py[:object]`` (without ``:object``: the module's ``implementation`` if it
    has one, else the module itself).

    Raises UnknownImplementation when ``spec`` names nothing, MissingExtra (one of those) when it
    names a built-in whose extra is not installed, TypeError when what it names has no
    Capabilities; whatever the module raises while being imported propagates.
    """
    if spec in BUILTIN and missing_extra(spec):
        raise MissingExtra(missing_extra(spec))
    module_file = _module_file(spec)
    if module_file:
        path, attribute = module_file
        impl = _import_file(spec, path)
        if not attribute and hasattr(impl, DEFAULT_OBJECT):
            attribute = DEFAULT_OBJECT
    else:
        module_name, _, attribute = import_path(spec).partition(":")
        impl = _import_module(spec, module_name)
    for part in filter(None, attribute.split(".")):
        if not hasattr(impl, part):
            raise UnknownImplementation(f"no implementation {spec!r}: "
                                        f"{getattr(impl, '__name__', impl)!r} has no {part!r}")
        impl = getattr(impl, part)
    capabilities = getattr(impl, "capabilities", None)
    if not isinstance(capabilities, Capabilities):
        raise TypeError(f"implementation {spec!r} must have a 'capabilities' attribute of type "
                        f"conformance.Capabilities, got {type(capabilities).__name__}")
    return impl
