"""The op record: everything the checks need to know about one op, in one place.

Like an OpInfo entry, a record says how to generate cases, how to call an implementation and the
oracle, how many products each output element sums (for the error bound), which edge cases a case
hits, and which invalid inputs must be rejected. The checks in ``conformance.checks`` are written
once against this interface.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


class ContractViolation(AssertionError):
    """An implementation returned something of the wrong kind, shape or dtype."""


@dataclass(frozen=True)
class ErrorInput:
    """An invalid call that must raise one of ``raises`` with a message naming one of ``names``."""
    description: str
    call: Callable[[object], object]          # impl -> result (should raise)
    raises: tuple[type[BaseException], ...]
    names: tuple[str, ...]
    needs: frozenset[str] = field(default_factory=frozenset)  # features the call uses
    arrays: tuple[np.ndarray, ...] = ()       # inputs that must come through unchanged


def expect_array(what: str, value, shape, dtype) -> np.ndarray:
    """Raise ContractViolation unless ``value`` is a NumPy array of this shape and dtype."""
    if not isinstance(value, np.ndarray):
        raise ContractViolation(f"{what} must be a numpy.ndarray, got {type(value).__module__}."
                                f"{type(value).__qualname__}")
    if value.shape != tuple(shape):
        raise ContractViolation(f"{what} has shape {value.shape}, expected {tuple(shape)}")
    if value.dtype != np.dtype(dtype):
        raise ContractViolation(f"{what} has dtype {value.dtype}, expected {np.dtype(dtype)}")
    return value


def expect_weighted_grads(op: str, result, x_shape, weight_shape, bias_shape, dtype) -> dict:
    """{x, weight[, bias]: gradient} from the backward of a layer with a weight and an optional
    bias, which returns (grad_x, grad_weight, grad_bias); bias_shape is None when there was no
    bias, and then grad_bias must be None."""
    if not isinstance(result, tuple) or len(result) != 3:
        raise ContractViolation(f"{op}_backward must return (grad_x, grad_weight, grad_bias), "
                                f"got {type(result).__name__}")
    grad_x, grad_weight, grad_bias = result
    grads = {"x": expect_array("grad_x", grad_x, x_shape, dtype),
             "weight": expect_array("grad_weight", grad_weight, weight_shape, dtype)}
    if bias_shape is not None:
        grads["bias"] = expect_array("grad_bias", grad_bias, bias_shape, dtype)
    elif grad_bias is not None:
        raise ContractViolation(f"grad_bias must be None when bias is None, got "
                                f"{type(grad_bias).__name__}")
    return grads


def expect_pair(what: str, result):
    if not isinstance(result, tuple) or len(result) != 2:
        raise ContractViolation(f"{what} must return a pair (out, cache), got {type(result).__name__}")
    return result


class OpRecord:
    """Base of the op records; see conv2d.py and pool2d.py for the two ops."""

    name: str
    inputs: tuple[str, ...]        # differentiable array inputs, in the order backward returns them

    def claimed(self, capabilities) -> frozenset[str]:
        """The features of this op an implementation claims."""
        return capabilities.claimed(self.name)

    def strategy(self, allowed: frozenset, required: frozenset = frozenset(), tiny: bool = False,
                 special: str | None = None):
        """Cases using only ``allowed`` features and all ``required`` ones; ``special`` asks for
        convention-testing data ("ties", "zeros") where the op has such a check."""
        raise NotImplementedError

    def corner_cases(self, allowed: frozenset, required: frozenset = frozenset()) -> list:
        """Hand-picked cases every run tries first (Hypothesis's explicit examples): corners that
        random generation reaches too rarely."""
        return []

    def forward(self, impl, arrays: dict, case):
        """Call the implementation's forward; return (out, cache) after checking out's type,
        shape and dtype."""
        raise NotImplementedError

    def backward(self, impl, grad_out: np.ndarray, cache, case) -> dict:
        """Call the implementation's backward; return {input name: gradient}, checked like forward."""
        raise NotImplementedError

    def oracle(self, arrays: dict, case, grad_out=None):
        """(out, {name: grad}) from PyTorch in float64; grads empty without grad_out."""
        raise NotImplementedError

    def abs_oracle(self, arrays: dict, case, grad_out):
        """(out, {name: grad}) of the op applied to absolute values: the scale of rounding errors."""
        raise NotImplementedError

    def terms(self, case) -> dict[str, int]:
        """Products summed into one element of "out" and of each gradient (0: exact selection)."""
        raise NotImplementedError

    def out_shape(self, case) -> tuple[int, ...]:
        raise NotImplementedError

    def linear(self, case) -> bool:
        """True when the op is linear in each input separately (adjoint identity applies)."""
        raise NotImplementedError

    def features_of(self, case) -> frozenset[str]:
        raise NotImplementedError

    # -- finite differences: defaults for ops linear in each input ---------------------------

    def fd_step(self, case) -> float:
        """Step of central differences: any step is exact up to rounding for a linear op."""
        return 1.0

    def fd_truncation(self, case, arrays, name, direction, step) -> np.ndarray:
        """Bound on the truncation error of each output's difference quotient along direction."""
        return np.zeros(self.out_shape(case))

    def fd_scale(self, impl, case, arrays, step) -> np.ndarray:
        """Scale of the rounding error of each output of a forward evaluated near x +- step."""
        return self.widened_forward(impl, case, arrays, step)

    def fd_valid(self, case, arrays, name, direction, step) -> bool:
        """False when the difference quotient is meaningless (a kink or winner change inside)."""
        return True

    def widened_forward(self, impl, case, arrays, step) -> np.ndarray:
        """The implementation's forward on |inputs| + step: the scale of a linear op nearby."""
        widened = {k: (np.abs(v) + step if k in self.inputs else v) for k, v in arrays.items()}
        return np.abs(np.asarray(self.forward(impl, widened, case)[0], np.float64))

    def edge_cases_of(self, case) -> frozenset[str]:
        raise NotImplementedError

    edge_cases: tuple[str, ...] = ()

    def error_inputs(self, claimed: frozenset[str]) -> list[ErrorInput]:
        """Invalid calls built from claimed features (dtype, pool mode) where they matter."""
        raise NotImplementedError

    def example(self, features: frozenset[str]):
        """A small legal case that uses exactly ``features`` (for the not-claimed check)."""
        raise NotImplementedError
