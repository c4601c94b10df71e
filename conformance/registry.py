"""Finding implementations: built-in names, installed plug-ins, or ``package.module:object`` paths.

A package registers implementations for ``python -m conformance list`` and by-name certification
with an entry point in the group ``conformance.implementations``, e.g. in its pyproject.toml:

    [project.entry-points."conformance.implementations"]
    my_layers = "my_package.layers:implementation"
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from conformance.capabilities import Capabilities
from impls import BUILTIN

ENTRY_POINT_GROUP = "conformance.implementations"


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


def resolve(spec: str):
    """Import the implementation named by ``spec``.

    ``spec`` is a built-in name (see impls.BUILTIN), a plug-in name, ``package.module:object``
    (an attribute of a module, e.g. an instance), or ``package.module`` (the module itself).
    """
    module_name, _, attribute = import_path(spec).partition(":")
    try:
        impl = importlib.import_module(module_name)
        for part in filter(None, attribute.split(".")):
            impl = getattr(impl, part)
    except (ImportError, AttributeError) as exc:
        names = ", ".join(name for name, _, _ in known())
        raise ValueError(f"cannot import implementation {spec!r} ({exc}); expected a known name "
                         f"({names}) or an import path package.module:object") from exc
    capabilities = getattr(impl, "capabilities", None)
    if not isinstance(capabilities, Capabilities):
        raise TypeError(f"implementation {spec!r} must have a 'capabilities' attribute of type "
                        f"conformance.Capabilities, got {type(capabilities).__name__}")
    return impl
