"""Built-in implementations, each a module speaking the interface of docs/contract.md.

BUILTIN maps the short names accepted by ``--impl`` and ``certify`` to import paths.
"""
BUILTIN = {
    "naive": "conformance.impls.naive",
    "im2col_index": "conformance.impls.im2col_index",
    "im2col_strided": "conformance.impls.im2col_strided",
    "numba": "conformance.impls.numba_direct",
}
