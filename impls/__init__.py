"""Built-in implementations, each a module speaking the interface of docs/contract.md.

BUILTIN maps the short names accepted by ``--impl`` and ``certify`` to import paths.
"""
BUILTIN = {
    "naive": "impls.naive",
    "im2col_index": "impls.im2col_index",
    "im2col_strided": "impls.im2col_strided",
    "numba": "impls.numba_direct",
}
