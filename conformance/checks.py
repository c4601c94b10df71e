"""The checks (docs/contract.md, "The checks"), written once against the op-record interface.

A property check takes (impl, op, case), returns the worst error as a fraction of its bound
(0 for checks that compare exactly), and raises CheckFailure (or whatever the implementation
raised) when the case fails. Fixed checks (error inputs, unclaimed features) run a fixed list
instead of generated cases.

KINDS at the end names every kind of check with the narrowing it always needs (e.g. the
Jacobian: float64 only, tiny shapes). Which checks apply to an op is the op record's
``checks``; conformance.suite puts the two together.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from hypothesis import reject

from conformance.cases import DIRECTION_STREAM, GRAD_STREAM, random_like
from conformance.error_map import ErrorMap
from conformance.layouts import read_only
from conformance.ops.base import BACKWARD, VALIDATION, OpRecord
from conformance.sizes import TINY
from conformance.tolerance import (SAFETY, U64, Mismatch, elementwise_bound, error_ratios,
                                   scalar_bound, unit_roundoff, worst_element)
from conformance.reference.finite_diff import (central_difference, inner, inner_abs,
                                               jacobian_by_differences, jacobian_by_vjp)

# Finite-difference directions have entries k / DIRECTION_LEVELS, |k| <= DIRECTION_LEVELS: few
# significant bits, so x +- h v is exact or nearly so, and |v| <= 1.
DIRECTION_LEVELS = 16


class CheckFailure(AssertionError):
    """A case that fails a check; ``mismatch`` is the worst element where there is one, and
    ``error_map`` every element over its bound."""

    def __init__(self, message: str, mismatch: Mismatch | None = None,
                 error_map: ErrorMap | None = None):
        super().__init__(message)
        self.mismatch = mismatch
        self.error_map = error_map


def compare(name: str, got: np.ndarray, expected: np.ndarray, bound: np.ndarray) -> float:
    """Worst |got - expected| / bound over the elements; raise CheckFailure if above 1."""
    worst = worst_element(name, got, expected, bound)
    if worst.ratio > 1:
        _, ratios = error_ratios(got, expected, bound)
        raise CheckFailure(worst.describe(), worst, ErrorMap.from_ratios(name, ratios))
    return worst.ratio


def compare_scalar(name: str, lhs: float, rhs: float, bound: float) -> float:
    error = abs(lhs - rhs)
    mismatch = Mismatch(name, (), lhs, rhs, error, bound)
    if not error <= bound:  # also catches NaN
        raise CheckFailure(mismatch.describe(), mismatch,
                           ErrorMap.from_ratios(name, error_ratios(lhs, rhs, bound)[1]))
    return mismatch.ratio


def _forward_and_grad(impl, op: OpRecord, case, arrays=None):
    arrays = case.arrays() if arrays is None else arrays
    out, cache = op.forward(impl, arrays, case)
    grad_out = random_like(out.shape, case.dtype, case.layout, case.seed, GRAD_STREAM)
    return arrays, out, cache, grad_out


# --- 1. forward against PyTorch -------------------------------------------------------------

def forward(impl, op: OpRecord, case) -> float:
    arrays = case.arrays()
    out, _ = op.forward(impl, arrays, case)
    expected, _ = op.oracle(arrays, case)
    abs_out, _ = op.error_scale(arrays, case, None)
    bound = elementwise_bound(op.terms(case)["out"], case.dtype, abs_out, expected)
    return compare("out", out, expected, bound)


# --- 2. each gradient against PyTorch autograd ----------------------------------------------

def gradient(name: str) -> Callable:
    def check(impl, op: OpRecord, case) -> float:
        arrays, _, cache, grad_out = _forward_and_grad(impl, op, case)
        grads = op.backward(impl, grad_out, cache, case)
        _, expected = op.oracle(arrays, case, grad_out)
        _, abs_grads = op.error_scale(arrays, case, grad_out)
        bound = elementwise_bound(op.terms(case)[name], case.dtype, abs_grads[name], expected[name])
        return compare(f"grad_{name}", grads[name], expected[name], bound)
    check.__name__ = f"grad_{name}"
    return check


# --- 3. gradients against the implementation's own forward (no PyTorch) ---------------------

def adjoint(impl, op: OpRecord, case) -> float:
    """<y(a) - y(a=0), g> = <a, grad_a> for each input a in which the op is linear.

    The scale of the rounding error is <|g|, A>, A the implementation's own forward on absolute
    values; both forwards and the gradient contribute, plus the roundings of the inner products.
    """
    arrays, out, cache, grad_out = _forward_and_grad(impl, op, case)
    grads = op.backward(impl, grad_out, cache, case)
    absolute = {k: np.abs(v) for k, v in arrays.items()}
    abs_out, _ = op.forward(impl, absolute, case)
    scale = inner_abs(grad_out, abs_out)
    terms = op.terms(case)
    worst = 0.0
    for name in _differentiable(op, arrays):
        zeroed, _ = op.forward(impl, dict(arrays, **{name: np.zeros_like(arrays[name])}), case)
        lhs = inner(np.asarray(out, np.float64) - zeroed, grad_out)
        rhs = inner(arrays[name], grads[name])
        results = (inner_abs(grad_out, out) + inner_abs(grad_out, zeroed)
                   + inner_abs(arrays[name], grads[name]))
        bound = scalar_bound(2 * terms["out"] + terms[name], case.dtype, scale, results,
                             max(out.size, arrays[name].size))
        worst = max(worst, compare_scalar(f"<y - y({name}=0), g> vs <{name}, grad_{name}>",
                                          lhs, rhs, bound))
    return worst


def _direction(rng, shape) -> np.ndarray:
    """A finite-difference direction (see DIRECTION_LEVELS)."""
    return rng.integers(-DIRECTION_LEVELS, DIRECTION_LEVELS + 1, size=shape) / DIRECTION_LEVELS


def _differentiable(op: OpRecord, arrays: dict) -> list[str]:
    return [name for name in op.inputs if name in arrays]


def _evaluation_error(impl, op: OpRecord, case, arrays, step) -> np.ndarray:
    """Bound on the rounding error of (f(x + h v) - f(x - h v)) / 2h, per output: both forwards
    round (n terms each) and so does forming x +- h v."""
    n = op.terms(case)["out"]
    return (SAFETY * (n + 1) * (unit_roundoff(case.dtype) + U64)
            * op.fd_scale(impl, case, arrays, step) / step)


def finite_difference(impl, op: OpRecord, case) -> float:
    """Directional central difference in float64: <(f(x+hv) - f(x-hv))/2h, g> = <v, grad_x>.

    Allowed error: truncation (zero for piecewise-linear ops while no kink or winner lies between
    x - hv and x + hv, which is checked: otherwise the case is invalid, not failed), rounding of
    the two forwards, the gradient's own rounding, and the inner products'.
    """
    arrays, _, cache, grad_out = _forward_and_grad(impl, op, case)
    name = op.inputs[0]
    grad = op.backward(impl, grad_out, cache, case)[name]
    direction = _direction(np.random.default_rng([case.seed, DIRECTION_STREAM]),
                           arrays[name].shape)
    step = op.fd_step(case)
    if not op.fd_valid(case, arrays, name, direction, step):
        reject()
    fd = central_difference(lambda a: op.forward(impl, a, case)[0], arrays, name, direction, step)
    quotient_error = (SAFETY * op.fd_truncation(case, arrays, name, direction, step)
                      + _evaluation_error(impl, op, case, arrays, step))
    _, abs_grads = op.error_scale(arrays, case, grad_out)
    bound = inner_abs(grad_out, quotient_error) + scalar_bound(
        op.terms(case)[name], case.dtype, inner_abs(direction, abs_grads[name]),
        inner_abs(fd, grad_out) + inner_abs(direction, grad), max(fd.size, grad.size))
    return compare_scalar(f"<(f({name}+hv) - f({name}-hv))/2h, g> vs <v, grad_{name}>",
                          inner(fd, grad_out), inner(direction, grad), bound)


def jacobian(impl, op: OpRecord, case) -> float:
    """Full Jacobian of every input on a tiny case: central differences column by column against
    vector-Jacobian products with unit rows.

    The quotient's error is bounded as in finite_difference, column by column; a unit-row VJP
    has a single nonzero product per element, so its own error is about one rounding.
    """
    arrays = case.arrays()
    out, cache = op.forward(impl, arrays, case)
    step = op.fd_step(case)
    names = _differentiable(op, arrays)
    vjp = jacobian_by_vjp(lambda g: op.backward(impl, g, cache, case), out.shape, case.dtype,
                          names)
    evaluation = np.ravel(_evaluation_error(impl, op, case, arrays, step))[:, None]
    worst = 0.0
    for name in names:
        fd = jacobian_by_differences(lambda a: op.forward(impl, a, case)[0], arrays, name, step)
        units = np.eye(arrays[name].size).reshape(-1, *arrays[name].shape)
        truncation = np.stack([np.ravel(op.fd_truncation(case, arrays, name, unit, step))
                               for unit in units], axis=1)
        bound = (evaluation + SAFETY * truncation
                 + SAFETY * unit_roundoff(case.dtype) * np.abs(vjp[name]))
        worst = max(worst, compare(f"d out / d {name} [out, {name}]", vjp[name], fd, bound))
    return worst


def loss_finite_difference(impl, op: OpRecord, case) -> float:
    """For each input of a composed op with a scalar loss (the network), a directional central
    difference of the implementation's own loss against <v, grad>, in float64.

    The record's ``same_pattern`` says whether the two ends share every selection (relu signs,
    pool winners; otherwise the case is invalid, not failed), and ``fd_loss_truncation`` bounds
    the truncation error there. Rounding: both losses (n terms each, plus forming the inputs)
    and the gradient's own rounding.
    """
    arrays = case.arrays()
    _, cache = op.layers(impl, arrays, case)
    grads = op.backward(impl, np.asarray(1.0), cache, case)
    _, abs_grads = op.error_scale(arrays, case, np.asarray(1.0))
    abs_loss, _ = op.error_scale(arrays, case, None)
    n = op.terms(case)["out"]
    step = op.fd_step(case)
    rng = np.random.default_rng([case.seed, DIRECTION_STREAM])
    worst = 0.0
    for name in op.inputs:
        direction = _direction(rng, arrays[name].shape)
        ends = [op.layers(impl, dict(arrays, **{name: arrays[name] + sign * step * direction}),
                          case)[0] for sign in (1, -1)]
        if not op.same_pattern(*ends):
            reject()
        fd = (float(ends[0]["loss"]) - float(ends[1]["loss"])) / (2 * step)
        bound = (SAFETY * op.fd_loss_truncation(ends, step)
                 + SAFETY * (n + 1) * 2 * U64 * float(abs_loss) / step
                 + SAFETY * n * 2 * U64 * inner_abs(direction, abs_grads[name]))
        worst = max(worst, compare_scalar(f"(loss({name}+hv) - loss({name}-hv))/2h vs "
                                          f"<v, grad_{name}>", fd,
                                          inner(direction, grads[name]), bound))
    return worst


def gradients(impl, op: OpRecord, case) -> float:
    """Every input's gradient against PyTorch autograd (for the composed network)."""
    return max(gradient(name)(impl, op, case) for name in op.inputs)


def convention(impl, op: OpRecord, case) -> float:
    """Forward and input gradient against PyTorch on inputs where the gradient is a convention:
    max/min pooling with ties (the first extreme element of each window wins), relu at exact
    zeros (gradient 0)."""
    return max(forward(impl, op, case), gradient(op.inputs[0])(impl, op, case))


def side_results(impl, op: OpRecord, case) -> float:
    """The results of the op's side functions (e.g. batchnorm2d's running statistics) against
    PyTorch, each element within the bound of its error scale and terms."""
    arrays = case.arrays()
    got = op.side_results(impl, arrays, case)
    expected = op.side_oracle(arrays, case)
    scales = op.side_error_scale(arrays, case)
    terms = op.terms(case)
    return max(compare(name, got[name], expected[name],
                       elementwise_bound(terms[name], case.dtype, scales[name], expected[name]))
               for name in expected)


# --- 4. contract ----------------------------------------------------------------------------

def _backward_if_claimed(impl, op: OpRecord, grad_out, cache, case) -> dict:
    """The gradients, or nothing for an implementation that claims only the forward."""
    if not impl.capabilities.claims(op.name, "backward"):
        return {}
    return op.backward(impl, grad_out, cache, case)


def _bits(a: np.ndarray) -> bytes:
    return np.asarray(a, order="C").tobytes()


def _snapshot(arrays: dict) -> dict[str, bytes]:
    return {k: _bits(v) for k, v in arrays.items()}


def no_mutation(impl, op: OpRecord, case) -> float:
    """Inputs are bit-for-bit unchanged by forward, backward and the op's side functions (such as
    batchnorm2d's running statistics), and read-only inputs work.

    Writable inputs are checked too: code may take another path for read-only arrays.
    """
    arrays = case.arrays()
    before = _snapshot(arrays)
    arrays, out, cache, grad_out = _forward_and_grad(impl, op, case, arrays)
    inputs = dict(arrays, grad_out=grad_out)
    before["grad_out"] = _bits(grad_out)
    _backward_if_claimed(impl, op, grad_out, cache, case)
    _backward_if_claimed(impl, op, grad_out, cache, case)
    side = op.side_results(impl, arrays, case)
    changed = [k for k, v in _snapshot(inputs).items() if v != before[k]]
    if changed:
        functions = "forward/backward" + "".join(f"/{name}" for name in side)
        raise CheckFailure(f"{functions} modified input(s) {changed} in place")
    frozen = {k: read_only(v) for k, v in arrays.items()}
    try:
        _, cache = op.forward(impl, frozen, case)
        _backward_if_claimed(impl, op, read_only(grad_out), cache, case)
        op.side_results(impl, frozen, case)
    except ValueError as exc:
        if "read-only" not in str(exc):
            raise
        raise CheckFailure(f"wrote into a read-only input: {exc}") from exc
    return 0.0


def no_aliasing(impl, op: OpRecord, case) -> float:
    """No returned array (side results included) shares memory with an input, another result, or
    a second backward's."""
    arrays, out, cache, grad_out = _forward_and_grad(impl, op, case)
    first = _backward_if_claimed(impl, op, grad_out, cache, case)
    second = _backward_if_claimed(impl, op, grad_out, cache, case)
    results = {"out": out, **{f"grad_{k}": v for k, v in first.items()},
               **op.side_results(impl, arrays, case)}
    others = {**arrays, "grad_out": grad_out, **{f"grad_{k} (second backward)": v
                                                 for k, v in second.items()}}
    names = list(results)
    for i, name in enumerate(names):
        candidates = {**{n: results[n] for n in names[i + 1:]}, **others}
        for other, array in candidates.items():
            if np.shares_memory(results[name], array):
                raise CheckFailure(f"{name} shares memory with {other}")
    return 0.0


def layouts(impl, op: OpRecord, case) -> float:
    """Non-contiguous inputs give the same results (side results included) as contiguous copies,
    within twice the bound."""
    arrays, out, cache, grad_out = _forward_and_grad(impl, op, case)
    grads = _backward_if_claimed(impl, op, grad_out, cache, case)
    contiguous = {k: np.asarray(v, order="C") for k, v in arrays.items()}
    out_c, cache_c = op.forward(impl, contiguous, case)
    grads_c = _backward_if_claimed(impl, op, np.asarray(grad_out, order="C"), cache_c, case)
    expected, _ = op.oracle(arrays, case)
    abs_out, abs_grads = op.error_scale(arrays, case, grad_out)
    terms = op.terms(case)
    worst = compare(f"out ({case.layout} vs contiguous)", out, np.asarray(out_c, np.float64),
                    2 * elementwise_bound(terms["out"], case.dtype, abs_out, expected))
    for name, grad in grads.items():
        bound = 2 * elementwise_bound(terms[name], case.dtype, abs_grads[name], grads_c[name])
        worst = max(worst, compare(f"grad_{name} ({case.layout} vs contiguous)", grad,
                                   np.asarray(grads_c[name], np.float64), bound))
    side = op.side_results(impl, arrays, case)
    if side:
        side_c = op.side_results(impl, contiguous, case)
        scales = op.side_error_scale(arrays, case)
        for name, result in side.items():
            bound = 2 * elementwise_bound(terms[name], case.dtype, scales[name], side_c[name])
            worst = max(worst, compare(f"{name} ({case.layout} vs contiguous)", result,
                                       np.asarray(side_c[name], np.float64), bound))
    return worst


def deterministic(impl, op: OpRecord, case) -> float:
    """Repeated forward calls, and repeated backward calls on one cache, give identical bits,
    also when another forward (other data, same shapes) ran in between: backward depends on its
    own cache only, never on state left by the latest call. Side results repeat bit for bit."""
    arrays, out, cache, grad_out = _forward_and_grad(impl, op, case)
    again, _ = op.forward(impl, arrays, case)
    if _bits(out) != _bits(again):
        raise CheckFailure("two forward calls on the same inputs gave different outputs")
    # Bits are taken right after each call: a backward that returns one accumulator it adds
    # into would otherwise compare an array with itself.
    first = _snapshot(_backward_if_claimed(impl, op, grad_out, cache, case))
    second = _snapshot(_backward_if_claimed(impl, op, grad_out, cache, case))
    op.forward(impl, replace(case, seed=case.seed ^ 1).arrays(), case)
    third = _snapshot(_backward_if_claimed(impl, op, grad_out, cache, case))
    for name in first:
        if first[name] != second[name]:
            raise CheckFailure(f"two backward calls on the same cache gave different grad_{name}")
        if first[name] != third[name]:
            raise CheckFailure(f"grad_{name} changed after a forward call on other data: "
                               "backward uses state outside its cache")
    side = _snapshot(op.side_results(impl, arrays, case))
    again = _snapshot(op.side_results(impl, arrays, case))
    for name in side:
        if side[name] != again[name]:
            raise CheckFailure(f"two calls on the same inputs gave different {name}")
    return 0.0


# --- 5. fixed checks ------------------------------------------------------------------------

@dataclass
class FixedOutcome:
    examples: int = 0
    failures: list[str] = field(default_factory=list)


class _Recorder:
    """Stands in for an implementation: records the first call made of it."""

    def __init__(self):
        self.call = None

    def __getattr__(self, name):
        def record(*args, **kwargs):
            if self.call is None:
                self.call = (name, args, kwargs)
        return record


def forward_call(op: OpRecord, bad) -> dict | None:
    """The keyword arguments of the forward call an error input makes, or None when it makes
    another call first."""
    recorder = _Recorder()
    try:
        bad.call(recorder)
    except Exception:  # noqa: BLE001 - only the recorded call matters
        pass
    forward = op.functions[0] if op.functions else None
    if recorder.call is None or forward is None or recorder.call[0] != forward.name:
        return None
    _, args, kwargs = recorder.call
    names = [p.strip() for p in forward.signature.split(",") if p.strip() != "*"]
    return {**dict(zip(names, args)), **kwargs}


def error_inputs(impl, op: OpRecord, claimed: frozenset) -> FixedOutcome:
    """Each invalid call raises the expected type, names the parameter, and changes nothing.
    Calls that need an unclaimed feature or lie outside a declared limit are not made."""
    outcome = FixedOutcome()
    limits = op.declared_limits(impl.capabilities)
    for bad in op.error_inputs(claimed):
        if not bad.needs <= claimed:
            continue
        call = forward_call(op, bad) if limits else None
        if call is not None and op.violated_limits(call, limits):
            continue
        outcome.examples += 1
        before = _snapshot(dict(enumerate(bad.arrays)))
        try:
            bad.call(impl)
        except bad.raises as exc:
            if not any(name in str(exc) for name in bad.names):
                outcome.failures.append(f"{bad.description}: {type(exc).__name__}({str(exc)!r}) "
                                        f"does not name {' or '.join(bad.names)}")
        except Exception as exc:  # noqa: BLE001 - any other exception is the finding
            outcome.failures.append(f"{bad.description}: raised {type(exc).__name__}({exc}), "
                                    f"expected {' or '.join(e.__name__ for e in bad.raises)}")
        else:
            outcome.failures.append(f"{bad.description}: accepted, expected "
                                    f"{' or '.join(e.__name__ for e in bad.raises)}")
        if _snapshot(dict(enumerate(bad.arrays))) != before:
            outcome.failures.append(f"{bad.description}: modified its input arrays")
    return outcome


def _base_features(op: OpRecord, claimed: frozenset) -> set[str]:
    """One feature of each of the op's choice groups (dtype, pool mode): a claimed one if any."""
    return {next((f for f in group if f in claimed), group[0]) for group in op.choices}


def unclaimed_features(impl, op: OpRecord, claimed: frozenset) -> FixedOutcome:
    """Calling a feature that is not claimed raises NotImplementedError, never returns garbage.
    Each call lies within the declared limits; a feature no such call uses is not tried. A call
    just outside each declared limit raises NotImplementedError too."""
    outcome = FixedOutcome()
    limits = op.declared_limits(impl.capabilities)
    calls = list(_unclaimed_calls(op, claimed, limits)) + [
        (name, case, f"outside the limit {name} ({op.limits[name].description})")
        for name in sorted(limits) if (case := _just_outside(op, claimed, limits, name))]
    for used, case, label in calls:
        outcome.examples += 1
        try:
            op.exercise(impl, case, used)
        except NotImplementedError:
            continue
        except AttributeError as exc:
            if op.name in str(exc) and not claimed:
                continue  # the whole op is absent and unclaimed
            outcome.failures.append(f"{label}: raised AttributeError({exc}), expected "
                                    "NotImplementedError")
        except Exception as exc:  # noqa: BLE001
            outcome.failures.append(f"{label}: raised {type(exc).__name__}({exc}), expected "
                                    "NotImplementedError")
        else:
            outcome.failures.append(f"{label}: a call returned a result; expected "
                                    "NotImplementedError")
    return outcome


def _unclaimed_calls(op: OpRecord, claimed: frozenset, limits: frozenset):
    """(feature, case, label) for each refusable feature not claimed that a case within the
    limits can use."""
    base = _base_features(op, claimed)
    for feature in op.features:
        if feature in claimed or not op.refusable(feature):
            continue
        group = next((g for g in op.choices if feature in g), ())
        wanted = frozenset({f for f in base if f not in group} | {feature})
        case = op.example(wanted)
        uses = op.features_of(case) | {feature}
        case = op.restrict(case, limits, uses, uses)
        if case is not None:
            yield feature, case, f"{feature} (not claimed)"


def _just_outside(op: OpRecord, claimed: frozenset, limits: frozenset, name: str):
    """A case just outside the declared limit ``name`` that uses claimed features only and lies
    within the other limits, or None when there is none."""
    example = op.example(frozenset(_base_features(op, claimed)) | claimed)
    breached = op.limits[name].breach(op.restrict(example, limits, claimed) or example)
    # The other limits may undo the breach (square_input and exact_division both set H and W):
    # then a few sizes nearby are tried.
    candidates = [op.restrict(breached, limits - {name}, claimed)] + [
        replace(breached, height=breached.height + dh, width=breached.width + dw)
        for dh in range(4) for dw in range(4)]
    return next((c for c in candidates if c is not None
                 and not op.features_of(c) - op.data_features - claimed
                 and op.violated_limits(op.call_arguments(c.arrays(), c), limits) == [name]),
                None)


# --- 6. the kinds of check ------------------------------------------------------------------

@dataclass(frozen=True)
class CheckKind:
    """A kind of check and the narrowing every op's use of it needs: features its cases must
    not use (``exclude``) and must use (``required``), and their size tier."""
    property: Callable | None = None     # (impl, op, case) -> worst error / bound
    fixed: Callable | None = None        # (impl, op, claimed) -> FixedOutcome
    exclude: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    tier: str | None = None


FLOAT64_ONLY = frozenset({"float32"})

KINDS: dict[str, CheckKind] = {
    "forward": CheckKind(forward),
    "gradients": CheckKind(gradients, required=BACKWARD),
    "adjoint": CheckKind(adjoint, required=BACKWARD),
    "finite_difference": CheckKind(finite_difference, exclude=FLOAT64_ONLY, required=BACKWARD),
    "loss_finite_difference": CheckKind(loss_finite_difference, required=BACKWARD),
    "jacobian": CheckKind(jacobian, exclude=FLOAT64_ONLY, required=BACKWARD, tier=TINY),
    "convention": CheckKind(convention, required=BACKWARD),
    "side_results": CheckKind(side_results),
    "no_mutation": CheckKind(no_mutation),
    "no_aliasing": CheckKind(no_aliasing),
    "layouts": CheckKind(layouts, required=frozenset({"noncontiguous"})),
    "deterministic": CheckKind(deterministic),
    "error_inputs": CheckKind(fixed=error_inputs, required=frozenset({VALIDATION})),
    "not_claimed": CheckKind(fixed=unclaimed_features),
}


def kind(name: str) -> CheckKind:
    """The kind of check called ``name``; "grad_NAME" compares the gradient of input NAME."""
    if name in KINDS:
        return KINDS[name]
    if name.startswith("grad_"):
        return CheckKind(gradient(name.removeprefix("grad_")), required=BACKWARD)
    raise ValueError(f"unknown kind of check {name!r}; known: grad_NAME, {', '.join(KINDS)}")
