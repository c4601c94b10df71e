"""Finding implementations: built-in names, or ``package.module:object`` import paths."""
from __future__ import annotations

import importlib

from conformance.capabilities import Capabilities
from impls import BUILTIN


def resolve(spec: str):
    """Import the implementation named by ``spec``.

    ``spec`` is a built-in name (see impls.BUILTIN), ``package.module:object`` (an attribute of a
    module, e.g. an instance), or ``package.module`` (the module itself is the implementation).
    """
    module_name, _, attribute = BUILTIN.get(spec, spec).partition(":")
    try:
        impl = importlib.import_module(module_name)
    except ImportError as exc:
        known = ", ".join(BUILTIN)
        raise ValueError(f"cannot import implementation {spec!r} ({exc}); expected a built-in "
                         f"name ({known}) or an import path package.module:object") from exc
    for part in filter(None, attribute.split(".")):
        impl = getattr(impl, part)
    capabilities = getattr(impl, "capabilities", None)
    if not isinstance(capabilities, Capabilities):
        raise TypeError(f"implementation {spec!r} must have a 'capabilities' attribute of type "
                        f"conformance.Capabilities, got {type(capabilities).__name__}")
    return impl


def display_name(spec: str, impl) -> str:
    return getattr(impl, "name", spec)
