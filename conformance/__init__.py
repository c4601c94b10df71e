"""Conformance harness for NumPy CNN layers (the contract: docs/contract.md).

Only what an implementation may use is imported here: the ``Capabilities`` type and the
output-size formula. Neither pulls in torch or Hypothesis (the op records behind them import
those only on use), so an implementation can ``from conformance import Capabilities`` cheaply.

The built-in implementations and the oracles are the subpackages ``conformance.impls`` and
``conformance.reference``. In the repository they are the top-level folders impls/ and
reference/; the wheel installs them inside this package (pyproject.toml, package-dir).
"""
import importlib.util
import sys
from pathlib import Path


def _import_repository_folders() -> None:
    """Run from a source checkout (not an installed wheel), ``conformance.impls`` and
    ``conformance.reference`` are the repository's impls/ and reference/ folders, next to
    this one; registered here before anything below imports them."""
    here = Path(__file__).resolve().parent
    for name in ("impls", "reference"):
        folder = here.parent / name
        if (here / name).is_dir() or not (folder / "__init__.py").is_file():
            continue   # installed: a subpackage of its own (or nothing to offer)
        spec = importlib.util.spec_from_file_location(
            f"{__name__}.{name}", folder / "__init__.py", submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        globals()[name] = module


_import_repository_folders()

from conformance.capabilities import FEATURES, Capabilities, features_used  # noqa: E402
from conformance.sizes import output_size  # noqa: E402

__all__ = ["Capabilities", "FEATURES", "features_used", "output_size"]
