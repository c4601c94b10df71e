"""The op record: everything the harness knows about one op, in one place.

Like an OpInfo entry, a record (one instance of an OpRecord subclass, in its own module under
conformance/ops/) says:

- the contract: the functions an implementation writes (``functions``, with docstrings the
  scaffold copies), the features it may claim (``features``) and which of them a call uses
  (``features_used``, what ``Capabilities.require`` asks);
- how to make cases: the case type (``case_type``), the size ranges per tier (``sizes``), how to
  draw a case (``draw_case``), hand-picked corners, one example per feature, the edge cases a case
  hits and the invalid calls that must be rejected (``error_inputs``);
- how to call an implementation and PyTorch (``forward``, ``backward``, ``oracle``);
- the error analysis: the scale of rounding errors (``error_scale``), the number of rounded terms
  per element (``terms``) and the finite-difference step and truncation;
- which checks apply (``checks``) and how this op narrows their cases.

FEATURES, the scaffold, the report order and every op list derive from the records. This module
and the record modules import neither torch nor Hypothesis at import time (``from conformance
import Capabilities`` must not pay for them): the oracle and the strategies import them on use.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from conformance.cases import parse_case
from conformance.sizes import SMALL, Sizes

DTYPES = ("float64", "float32")
BACKWARD = frozenset({"backward"})
VALIDATION = "validation"   # claims that invalid calls raise as error_inputs expects


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


@dataclass(frozen=True)
class Function:
    """One function of the interface: ``def name(signature)``, its contract, and the parameters
    it passes to ``capabilities.require`` after validating them (None: it calls no require)."""
    name: str
    signature: str
    doc: str
    require: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Applies:
    """A check that applies to an op: its name in reports, the kind of check in
    conformance.checks that runs it (default: the name), and how the op narrows the cases on top
    of the kind's own narrowing: features the cases must not use (``exclude``), must use
    (``required``), the size tier, and convention-testing data (``special``: "ties", "zeros")."""
    name: str
    kind: str | None = None
    exclude: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    tier: str | None = None
    special: str | None = None


def applies(name: str, kind: str | None = None, *, exclude=(), required=(), tier=None,
            special=None) -> Applies:
    return Applies(name, kind, frozenset(exclude), frozenset(required), tier, special)


# Checks every op an implementation speaks gets: its contract beyond the numbers.
CONTRACT_CHECKS = ("no_mutation", "no_aliasing", "layouts", "deterministic", "error_inputs",
                   "not_claimed")


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


def expect_tuple(what: str, result, names: tuple[str, ...]) -> tuple:
    """Raise ContractViolation unless ``result`` is a tuple of len(names) values."""
    if not isinstance(result, tuple) or len(result) != len(names):
        raise ContractViolation(f"{what} must return ({', '.join(names)}), got "
                                f"{type(result).__name__}" + (f" of length {len(result)}" if
                                                              isinstance(result, tuple) else ""))
    return result


class Gradients(dict):
    """{input name: gradient} from a backward, where a gradient of the wrong kind, shape or
    dtype raises its ContractViolation only when it is read: the check of grad_x fails for a
    malformed grad_x, while the checks of grad_weight and grad_bias still judge theirs. Reading
    every gradient (items, values, iteration) raises for the first malformed one."""

    def __init__(self, checked: dict):
        """``checked``: {name: zero-argument callable returning the gradient after checking it
        (expect_array), raising ContractViolation when it is malformed}."""
        super().__init__()
        self.malformed: dict[str, ContractViolation] = {}
        for name, check in checked.items():
            try:
                super().__setitem__(name, check())
            except ContractViolation as violation:
                self.malformed[name] = violation
                super().__setitem__(name, None)

    def __getitem__(self, name):
        if name in self.malformed:
            raise self.malformed[name]
        return super().__getitem__(name)

    def _whole(self) -> None:
        if self.malformed:
            raise next(iter(self.malformed.values()))

    def __iter__(self):
        self._whole()
        return super().__iter__()

    def items(self):
        self._whole()
        return super().items()

    def values(self):
        self._whole()
        return super().values()

    def keys(self):
        self._whole()
        return super().keys()

    def get(self, name, default=None):
        return self[name] if name in self else default


def expect_grads(shapes: dict, result: tuple, dtype) -> Gradients:
    """Gradients of ``result`` (one per name of ``shapes``, in order), each checked lazily for
    its shape {name: shape} and ``dtype``."""
    return Gradients({name: (lambda name=name, grad=grad: expect_array(
        f"grad_{name}", grad, shapes[name], dtype)) for name, grad in zip(shapes, result)})


def expect_weighted_grads(op: str, result, x_shape, weight_shape, bias_shape, dtype) -> dict:
    """{x, weight[, bias]: gradient} (Gradients) from the backward of a layer with a weight and
    an optional bias, which returns (grad_x, grad_weight, grad_bias); bias_shape is None when
    there was no bias, and then grad_bias must be None. A result that is not such a triple fails
    every gradient; one malformed gradient fails only the checks that read it."""
    if not isinstance(result, tuple) or len(result) != 3:
        raise ContractViolation(f"{op}_backward must return (grad_x, grad_weight, grad_bias), "
                                f"got {type(result).__name__}")
    grad_x, grad_weight, grad_bias = result
    if bias_shape is None and grad_bias is not None:
        raise ContractViolation(f"grad_bias must be None when bias is None, got "
                                f"{type(grad_bias).__name__}")
    shapes = {"x": x_shape, "weight": weight_shape}
    if bias_shape is not None:
        shapes["bias"] = bias_shape
    return expect_grads(shapes, result, dtype)


def expect_pair(what: str, result):
    if not isinstance(result, tuple) or len(result) != 2:
        raise ContractViolation(f"{what} must return a pair (out, cache), got {type(result).__name__}")
    return result


def well_formed_pair(value, least: int) -> tuple[int, int] | None:
    """(rows, cols) from a pair of ints or a single int, each at least ``least``; None when the
    value is malformed (the implementation's validation rejects it: it is no feature)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        pair = tuple(pair)
    except TypeError:
        return None
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 and v >= least for v in pair):
        return None
    return (int(pair[0]), int(pair[1]))


def pair_features(name: str, value, neutral: int, least: int) -> set[str]:
    """The features a well-formed pair argument uses: ``name`` unless both entries are
    ``neutral``, and "rectangular_<name>" when its entries differ; none when malformed."""
    pair = well_formed_pair(value, least)
    if pair is None:
        return set()
    return ({name} if set(pair) != {neutral} else set()) | (
        {f"rectangular_{name}"} if pair[0] != pair[1] else set())


@dataclass(frozen=True)
class Limit:
    """A restriction of an op's domain an implementation may declare (Capabilities(...,
    limits=...)): the calls it handles are those for which ``holds(**call)`` is true; cases are
    moved within it by ``impose(case, allowed)`` (which may need a feature outside ``allowed``:
    the caller checks) and just outside it by ``breach(case)`` (for the check that a call outside
    is refused). ``holds`` judges well-formed calls only and is true for malformed ones, which
    are left to the implementation's validation."""
    name: str
    description: str
    holds: Callable[..., bool]
    impose: Callable[[object, frozenset], object]
    breach: Callable[[object], object]

    def holds_for(self, call: dict) -> bool:
        try:
            return bool(self.holds(**call))
        except (TypeError, ValueError, IndexError, AttributeError, KeyError):
            return True


def example_storage(features) -> dict[str, str]:
    """dtype and layout of an example case using ``features``: float32 and a non-contiguous
    layout only when asked for."""
    return {"dtype": "float32" if "float32" in features else "float64",
            "layout": "reversed" if "noncontiguous" in features else "contiguous"}


def error_dtype(claimed) -> str:
    """The dtype of error inputs: float64 where claimed, else float32."""
    return "float64" if "float64" in claimed else "float32"


def torch_oracle():
    """reference.torch_oracle, imported on first use (it imports torch)."""
    from conformance.reference import torch_oracle as oracle
    return oracle


class OpRecord:
    """Base of the op records. Subclasses set the class attributes below and implement the
    methods that raise NotImplementedError here."""

    name: str
    features: tuple[str, ...]            # claimable features, in documentation order
    data_features: frozenset[str] = frozenset()  # properties of the input values, not of the
                                                 # call: checked, but never refused
    choices: tuple[tuple[str, ...], ...] = (DTYPES,)  # every call uses one feature of each group
    call_features: frozenset[str] = BACKWARD | {VALIDATION}  # used by calling a function
                                              # other than the forward, or by invalid calls
                                              # (the checks that require them), never by a
                                              # case's arguments
    limits: dict[str, Limit] = {}         # domain restrictions an implementation may declare
    inputs: tuple[str, ...] = ("x",)     # differentiable inputs, in the order backward returns them
    primary = "x"                        # the argument whose dtype is the call's dtype
    functions: tuple[Function, ...] = ()  # the interface an implementation writes
    checks: tuple[Applies | str, ...] = ()
    sizes: dict[str, Sizes] = {}
    case_type: type
    edge_cases: tuple[str, ...] = ()
    # What a run needs to reach an edge case: features it must claim, and limits that rule it
    # out when declared (tests/meta/test_records.py searches for a case that proves one wrong).
    edge_case_needs: dict[str, frozenset[str]] = {}
    edge_cases_ruled_out: dict[str, frozenset[str]] = {}
    composed = False                     # built from other ops' functions (no claims of its own)

    # -- the contract ------------------------------------------------------------------------

    def features_used(self, **call) -> frozenset[str]:
        """The features a call with these keyword arguments relies on: the dtype of the primary
        array and "noncontiguous" for any array that is not C-contiguous; records add their
        own. Malformed arguments are not features: they are left for the implementation's
        validation to reject."""
        arrays = [a for a in call.values() if isinstance(a, np.ndarray)]
        first = call.get(self.primary)
        dtype = np.dtype(first.dtype).name if isinstance(first, np.ndarray) else None
        used = {dtype} if dtype in DTYPES else set()
        if any(not a.flags.c_contiguous for a in arrays):
            used.add("noncontiguous")
        return frozenset(used)

    def claimed(self, capabilities) -> frozenset[str]:
        """The features of this op an implementation claims."""
        return capabilities.claimed(self.name)

    def declared_limits(self, capabilities) -> frozenset[str]:
        """The limits of this op an implementation declares (none when it declares none)."""
        limited = getattr(capabilities, "limited", None)
        return limited(self.name) if limited else frozenset()

    def refusable(self, feature: str) -> bool:
        """Whether a call using ``feature`` can be refused when it is not claimed: not for
        properties of the data (ties) or for validation, a promise about invalid calls."""
        return feature not in self.data_features and feature != VALIDATION

    def violated_limits(self, call: dict, limits) -> list[str]:
        """The names among ``limits`` that a forward call (keyword arguments) lies outside."""
        return [name for name in sorted(limits) if not self.limits[name].holds_for(call)]

    def restrict(self, case, limits, allowed: frozenset, required: frozenset = frozenset()):
        """``case`` moved within ``limits`` (each limit's ``impose``, a few rounds), or None when
        no such case uses only ``allowed`` features and every ``required`` one. Without limits,
        ``case`` itself."""
        if not limits:
            return case
        for _ in range(3):
            broken = self.violated_limits(self.call_arguments(case.arrays(), case), limits)
            if not broken:
                break
            for name in broken:
                case = self.limits[name].impose(case, allowed)
        if self.violated_limits(self.call_arguments(case.arrays(), case), limits):
            return None
        used = self.features_of(case)
        needed = required - self.call_features - {"noncontiguous"}
        if not used - self.data_features <= allowed or not needed <= used:
            return None
        return case

    def applicable(self) -> tuple[Applies, ...]:
        """The checks that apply, each as an Applies."""
        return tuple(c if isinstance(c, Applies) else Applies(c) for c in self.checks)

    # -- cases -------------------------------------------------------------------------------

    def strategy(self, allowed: frozenset, required: frozenset = frozenset(), tier: str = SMALL,
                 special: str | None = None, limits: frozenset = frozenset()):
        """A Hypothesis strategy of cases using only ``allowed`` features and all ``required``
        ones, sized by ``tier``, within ``limits``; ``special`` asks for convention-testing
        data."""
        from conformance.strategies import cases
        return cases(self, allowed, required, tier, special, frozenset(limits))

    def draw_case(self, draw, sizes: Sizes, special: str | None):
        """One case, from the choices of ``draw`` (a conformance.strategies.Draw) within
        ``sizes``."""
        raise NotImplementedError

    def draw_large_case(self, draw, special: str | None):
        """One case of the large tier (conformance.sizes): dimensions around the powers of two,
        within the tier's caps. Records without one have no large tier."""
        raise NotImplementedError

    @property
    def has_large_tier(self) -> bool:
        return type(self).draw_large_case is not OpRecord.draw_large_case

    def corner_cases(self, allowed: frozenset, required: frozenset = frozenset()) -> list:
        """Hand-picked cases every run tries first (Hypothesis's explicit examples): corners that
        random generation reaches too rarely."""
        return []

    def case_from_json(self, text: str):
        return parse_case(self.case_type, text)

    def call_arguments(self, arrays: dict, case) -> dict:
        """The forward call as keyword arguments (what ``features_used`` takes)."""
        raise NotImplementedError

    def features_of(self, case) -> frozenset[str]:
        """The features a case uses: those of its forward call, and its data features."""
        return self.features_used(**self.call_arguments(case.arrays(), case))

    def edge_cases_of(self, case) -> frozenset[str]:
        raise NotImplementedError

    def reachable_edge_cases(self, claimed, limits=()) -> tuple[str, ...]:
        """The edge cases a run within ``claimed`` features and declared ``limits`` can reach."""
        return tuple(edge for edge in self.edge_cases
                     if self.edge_case_needs.get(edge, frozenset()) <= set(claimed)
                     and not self.edge_cases_ruled_out.get(edge, frozenset()) & set(limits))

    def example(self, features: frozenset[str]):
        """A small legal case that uses exactly ``features`` (for the not-claimed check)."""
        raise NotImplementedError

    def error_inputs(self, claimed: frozenset[str]) -> list[ErrorInput]:
        """Invalid calls built from claimed features (dtype, pool mode) where they matter."""
        raise NotImplementedError

    # -- calling -------------------------------------------------------------------------------

    def forward(self, impl, arrays: dict, case):
        """Call the implementation's forward; return (out, cache) after checking out's type,
        shape and dtype."""
        raise NotImplementedError

    def backward(self, impl, grad_out: np.ndarray, cache, case) -> dict:
        """Call the implementation's backward; return {input name: gradient}, checked like forward."""
        raise NotImplementedError

    def exercise(self, impl, case, feature: str) -> None:
        """Call what uses ``feature`` on ``case`` (for the not-claimed check): the forward, and
        the backward for "backward"."""
        out, cache = self.forward(impl, case.arrays(), case)
        if feature == "backward":   # the forward is claimed; the backward must refuse
            self.backward(impl, np.ones_like(out), cache, case)

    def out_shape(self, case) -> tuple[int, ...]:
        raise NotImplementedError

    def side_results(self, impl, arrays: dict, case) -> dict[str, np.ndarray]:
        """{name: result} of the op's functions besides forward and backward (batchnorm2d's
        running statistics), checked like the forward's, for those the implementation claims;
        the contract checks call them too. None by default."""
        return {}

    # -- truth and error scales ----------------------------------------------------------------

    def oracle(self, arrays: dict, case, grad_out=None):
        """(out, {name: grad}) from PyTorch in float64; grads empty without grad_out."""
        raise NotImplementedError

    def error_scale(self, arrays: dict, case, grad_out):
        """(out, {name: grad}) of the same shapes as the oracle's: for each element, the size
        its rounding errors scale with (for a sum of products, the sum of |products|: the op on
        absolute values). See docs/contract.md, "Tolerances"."""
        raise NotImplementedError

    def terms(self, case) -> dict[str, int]:
        """Roundings per element of "out", of each gradient and of each side result, each
        relative to the element's error scale (0: exact selection or copy)."""
        raise NotImplementedError

    def side_oracle(self, arrays: dict, case) -> dict[str, np.ndarray]:
        """{name: side result} from PyTorch in float64 (see side_results)."""
        raise NotImplementedError

    def side_error_scale(self, arrays: dict, case) -> dict[str, np.ndarray]:
        """{name: error scale} of each side result (see error_scale)."""
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
