"""``python -m conformance new NAME``: write a new implementation module that claims nothing.

The module holds every function of every op the harness knows (the records' ``functions``),
each with its contract as docstring and a body that raises NotImplementedError. Each forward
body says where its validation goes: before ``CAPABILITIES.require``, so that invalid arguments
raise ValueError/TypeError (as the error_inputs check expects) rather than NotImplementedError
for whatever feature they seem to use.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

from conformance.ops import OPS, SPOKEN
from conformance.ops.base import Function

HEADER = '''"""{name}: CNN layers in NumPy.

Certify with:  python -m conformance certify {name}:implementation
(run from the folder holding this file, or put that folder on PYTHONPATH).

Claim a feature in CAPABILITIES only once it works: the suite tests every claimed feature and
reports the others as "not claimed". Calls that use an unclaimed feature must raise
NotImplementedError; ``CAPABILITIES.require(op, ...)`` does that for you. The contract of every
function is in its docstring (and in the harness's docs/contract.md). Every function leaves its
inputs unmodified and returns no views of them, accepts non-contiguous inputs, and every
backward may be called several times with one cache, giving the same bits each time.
"""
import numpy as np

from conformance import Capabilities

# Features per op:
{features}
# e.g. Capabilities({{"conv2d": {{"float64", "validation"}}}}) claims the float64 conv2d
# forward and its argument checks only.
CAPABILITIES = Capabilities({{}})


class {cls}:
    name = "{name}"
    capabilities = CAPABILITIES
'''

FOOTER = '''

implementation = {cls}()
'''


def _method(op: str, function: Function) -> str:
    doc = textwrap.indent(function.doc, " " * 8).lstrip()
    closing = "\n        " if "\n" in doc else ""
    lines = ["", "    @staticmethod", f"    def {function.name}({function.signature}):",
             f'        """{doc}{closing}"""']
    if function.require is not None:
        arguments = ", ".join(f"{p}={p}" for p in function.require)
        lines += ["        # First validate the arguments: ValueError/TypeError naming the",
                  "        # parameter. Then refuse what is not claimed:",
                  *textwrap.wrap(f'CAPABILITIES.require("{op}", {arguments})', width=92,
                                 initial_indent=" " * 8, subsequent_indent=" " * 29)]
    lines.append(f'        raise NotImplementedError("{function.name}")')
    return "\n".join(lines)


def render(name: str) -> str:
    """The text of the module NAME.py."""
    cls = "".join(part.capitalize() for part in name.split("_")) or "Implementation"
    features = "\n".join(f"#   {op}: {' '.join(OPS[op].features)}" for op in SPOKEN)
    methods = [_method(op, function) for op in SPOKEN for function in OPS[op].functions]
    return (HEADER.format(name=name, cls=cls, features=features) + "\n".join(methods)
            + FOOTER.format(cls=cls))


def write_scaffold(name: str, directory: Path) -> Path:
    """Write ``directory/NAME.py``; refuse to overwrite an existing file."""
    if not name.isidentifier():
        raise ValueError(f"NAME must be a Python identifier (it becomes a module), got {name!r}")
    path = Path(directory) / f"{name}.py"
    if path.exists():
        raise FileExistsError(f"{path} exists; choose another NAME or --path")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(name))
    return path
