"""The batchnorm2d record: torch.nn.functional.batch_norm on (N, C, H, W), per channel c.

training    out = gamma[c] (x - mean[c]) / sqrt(var[c] + eps) + beta[c], mean and the biased
            variance over the m = N H W values of channel c, differentiated through them
eval        the same with running_mean and running_var as constants (feature "eval")
running statistics (feature "running_stats", a side result): PyTorch's update by a training
            step, (1 - momentum) old + momentum new, the variance divided by m - 1

Error analysis (see ``error_scale``, ``terms`` and ``fd_truncation``), per channel, u the unit
roundoff of the dtype, S = sqrt(var + eps), xhat = (x - mean) / S, and

    M = mean|x| / S        the error of a computed mean, m u mean|x|, in units of S
    H_j = |xhat_j|
    rho = m u M^2          the second-order effect of the mean's error on the variance

Cases vary eps (1e-5, 1e-3, 0.1), momentum (0, 0.1, 0.5, 1), the mean of each channel against
its spread (0 to 2^22 standard deviations away from 0), channels of constant values (variance
0, so 1 / sqrt(var + eps) = 1 / sqrt(eps)) or of variance far below eps, and magnitudes 2^+-20.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conformance.layouts import lay_out
from conformance.ops.base import (BACKWARD, CONTRACT_CHECKS, VALIDATION, ErrorInput, Function,
                                  OpRecord, applies, error_dtype, example_storage, expect_array,
                                  expect_grads, expect_pair, expect_tuple, torch_oracle)
from conformance.sizes import BATCHES, NEAR_POWERS, SMALL, TINY, Range, Sizes, fits
from conformance.tolerance import unit_roundoff

EPSILONS = (1e-5, 1e-3, 0.1)
MOMENTA = (0.1, 0.0, 0.5, 1.0)
OFFSETS = (0.0, 1.0, 2.0**10)      # each channel's mean over the scale (times 1 to 2, either sign)
SPREADS = (1.0, 2.0**-12, 0.0)     # each channel's standard deviation over the scale
RUNNING_VAR = (0.25, 2.0)          # running variances: the spread squared times U(0.25, 2)
FD_STEPS = 2**13                   # finite-difference step: the smallest S over this power of 2
CHANNEL_AXES = (0, 2, 3)


@dataclass(frozen=True)
class BatchNorm2dCase:
    batch: int
    channels: int
    height: int
    width: int
    training: bool      # False: eval mode, normalised by the running statistics
    running: bool       # the forward is given running_mean and running_var (always in eval)
    eps: float
    momentum: float     # of the running statistics' update
    offset: float       # each channel's mean is offset * (1 to 2) * scale, either sign
    spread: float       # each channel's values spread * scale * standard normal around it
    dtype: str
    layout: str
    magnitude: int      # scale = 2**magnitude
    seed: int

    @property
    def x_shape(self):
        return (self.batch, self.channels, self.height, self.width)

    @property
    def m(self) -> int:
        """Values per channel."""
        return self.batch * self.height * self.width

    def arrays(self) -> dict[str, np.ndarray]:
        """x, gamma, beta, running_mean and running_var in the case's dtype and layout."""
        rng = np.random.default_rng(self.seed)
        scale = 2.0**self.magnitude
        centre = self.offset * rng.choice((-1.0, 1.0), self.channels) * (
            1 + rng.random(self.channels))
        z = rng.standard_normal(self.x_shape)
        values = {
            "x": scale * (self.spread * z + centre.reshape(1, -1, 1, 1)),
            "gamma": rng.standard_normal(self.channels),
            "beta": rng.standard_normal(self.channels),
            "running_mean": scale * (centre + self.spread * rng.standard_normal(self.channels)),
            "running_var": (scale * self.spread) ** 2 * rng.uniform(*RUNNING_VAR, self.channels),
        }
        return {k: lay_out(v.astype(self.dtype), self.layout) for k, v in values.items()}


def _channel(v):
    """(C,) -> (1, C, 1, 1) float64, broadcasting against x."""
    return np.asarray(v, np.float64).reshape(1, -1, 1, 1)


@dataclass(frozen=True)
class _Statistics:
    """Per-channel quantities of the error analysis, in float64, each shaped to broadcast
    against x: the normalisation's mean and S, xhat, and M and rho (module docstring)."""
    mean: np.ndarray
    S: np.ndarray
    xhat: np.ndarray
    M: np.ndarray
    rho: np.ndarray


FORWARD_DOC = """Batch normalisation, as torch.nn.functional.batch_norm(x, running_mean,
running_var, gamma, beta, training, momentum, eps) (its output only).

x: (N, C, H, W); gamma, beta: (C,); running_mean, running_var: (C,) or None.
training=True: per channel c, the mean and the biased variance (divided by m = N * H * W)
over (N, H, W); out = gamma[c] * (x - mean[c]) / sqrt(var[c] + eps) + beta[c].
running_mean and running_var are not read (may be None) and never modified.
training=False (feature "eval"): the same with running_mean and running_var.
Returns (out in x's dtype, cache).
Raises ValueError naming the parameter for x not 4-D, gamma or beta not (C,), eps not a
finite number > 0, running statistics missing or not (C,) in eval mode, or training with
N * H * W < 2; NotImplementedError for unclaimed features."""

BACKWARD_DOC = """Gradients of sum(out * grad_out): grad_out (N, C, H, W) in the forward's dtype.

Returns (grad_x (N, C, H, W), grad_gamma (C,), grad_beta (C,)). Training differentiates
through the batch mean and variance; eval treats the running statistics as constants."""

RUNNING_STATS_DOC = """The running statistics a training-mode forward leaves (feature
"running_stats"), as PyTorch updates them:
new_mean = (1 - momentum) * running_mean + momentum * batch mean
new_var  = (1 - momentum) * running_var + momentum * unbiased batch variance (divided by m - 1)
Returns (new_mean, new_var): new (C,) arrays in x's dtype; the inputs are never modified.
Raises ValueError naming the parameter for momentum outside [0, 1], running statistics
missing or not (C,), or N * H * W < 2."""


class BatchNorm2d(OpRecord):
    name = "batchnorm2d"
    features = ("float32", "float64", "noncontiguous", "backward", "eval", "running_stats",
                "validation")
    call_features = BACKWARD | {"running_stats", VALIDATION}
    inputs = ("x", "gamma", "beta")
    functions = (
        Function("batchnorm2d_forward",
                 "x, gamma, beta, *, training, running_mean, running_var, eps", FORWARD_DOC,
                 ("x", "gamma", "beta", "training", "running_mean", "running_var")),
        Function("batchnorm2d_backward", "grad_out, cache", BACKWARD_DOC),
        Function("batchnorm2d_running_stats", "x, running_mean, running_var, *, momentum",
                 RUNNING_STATS_DOC, ("x", "running_mean", "running_var", "momentum")),
    )
    checks = ("forward", "grad_x", "grad_gamma", "grad_beta", "finite_difference", "jacobian",
              applies("running_stats", "side_results", required={"running_stats"}),
              *CONTRACT_CHECKS)
    case_type = BatchNorm2dCase
    sizes = {
        SMALL: Sizes(batch=(1, 3), channels=(1, 3), height=(1, 6), width=(1, 6)),
        TINY: Sizes(batch=(1, 2), channels=(1, 2), height=(1, 2), width=(1, 3)),
    }
    edge_cases = ("batch 1", "one channel", "1x1 spatial", "two values per channel",
                  "constant channels", "variance below eps", "mean offset 2^10 spreads",
                  "eps 0.1", "momentum 0", "momentum 1", "eval", "no running statistics given",
                  "magnitude 2^20", "magnitude 2^-20")

    # -- the contract ------------------------------------------------------------------------

    def features_used(self, **call):
        used = set(super().features_used(**call))
        if "training" in call and not call["training"]:
            used.add("eval")
        if "momentum" in call:
            used.add("running_stats")
        return frozenset(used)

    # -- cases ---------------------------------------------------------------------------------

    def draw_case(self, draw, sizes, special):
        # The running statistics are those of a training step.
        training = "running_stats" in draw.required or not draw.uses("eval")
        batch, channels = draw.integer(sizes.batch), draw.integer(sizes.channels)
        height = draw.integer(sizes.height)
        # Training needs two values per channel at least.
        lowest = 2 if training and batch * height == 1 else sizes.width.low
        width = draw.integer(Range(lowest, max(lowest, sizes.width.high)))
        return self._case(draw, training, batch, channels, height, width)

    def draw_large_case(self, draw, special):
        """Batch, channels and spatial size around the powers of two, within the tier's caps."""
        training = "running_stats" in draw.required or not draw.uses("eval")
        batch = draw.size(BATCHES)
        channels = draw.size(NEAR_POWERS, lambda c: fits(batch * c))
        height = draw.size(NEAR_POWERS, lambda h: fits(batch * channels * h))
        width = draw.size(NEAR_POWERS, lambda w: fits(batch * channels * height * w),
                          at_least=2 if training and batch * height == 1 else 1)
        return self._case(draw, training, batch, channels, height, width)

    def _case(self, draw, training, batch, channels, height, width):
        running = not training or draw.flag()
        return BatchNorm2dCase(
            batch=batch, channels=channels, height=height, width=width, training=training,
            running=running, eps=draw.choice(EPSILONS), momentum=draw.choice(MOMENTA),
            offset=draw.choice(OFFSETS), spread=draw.choice(SPREADS), dtype=draw.dtype(),
            layout=draw.layout(), magnitude=draw.magnitude(), seed=draw.seed())

    def corner_cases(self, allowed, required=frozenset()):
        """A training step on several channels and pixels, in a non-contiguous layout where
        allowed: random cases combine all of these less often than one would like (channel
        mix-ups show only there)."""
        layout = "channels_last" if "noncontiguous" in allowed else "contiguous"
        dtype = "float64" if "float64" in allowed else "float32"
        return [BatchNorm2dCase(batch=2, channels=3, height=2, width=3, training=True,
                                running=True, eps=1e-5, momentum=0.1, offset=1.0, spread=1.0,
                                dtype=dtype, layout=layout, magnitude=0, seed=0)]

    def call_arguments(self, arrays, case):
        running = case.running or not case.training
        return dict(x=arrays["x"], gamma=arrays["gamma"], beta=arrays["beta"],
                    training=case.training,
                    running_mean=arrays["running_mean"] if running else None,
                    running_var=arrays["running_var"] if running else None)

    def edge_cases_of(self, case):
        spread = case.spread * 2.0**case.magnitude
        return frozenset(name for name, hit in (
            ("batch 1", case.batch == 1), ("one channel", case.channels == 1),
            ("1x1 spatial", case.height == case.width == 1),
            ("two values per channel", case.m == 2),
            ("constant channels", case.spread == 0),
            ("variance below eps", 0 < spread**2 < case.eps),
            ("mean offset 2^10 spreads", case.offset >= 2**10 and case.spread > 0),
            ("eps 0.1", case.eps == 0.1), ("momentum 0", case.momentum == 0),
            ("momentum 1", case.momentum == 1), ("eval", not case.training),
            ("no running statistics given", not case.running),
            ("magnitude 2^20", case.magnitude == 20),
            ("magnitude 2^-20", case.magnitude == -20)) if hit)

    def example(self, features):
        return BatchNorm2dCase(
            batch=2, channels=3, height=2, width=3, training="eval" not in features,
            running=True, eps=1e-5, momentum=0.1, offset=1.0, spread=1.0, magnitude=0, seed=0,
            **example_storage(features))

    def error_inputs(self, claimed):
        dtype = error_dtype(claimed)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 3, 2, 2)).astype(dtype)
        gamma, beta = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
        mean, var = np.zeros(3, dtype), np.ones(3, dtype)
        short = np.ones(4, dtype)
        single = np.ascontiguousarray(x[:1, :, :1, :1])
        good = dict(training=True, running_mean=mean, running_var=var, eps=1e-5)

        def forward(x=x, gamma=gamma, beta=beta, **changes):
            keywords = {**good, **changes}
            return lambda impl: impl.batchnorm2d_forward(x, gamma, beta, **keywords)

        def update(x=x, running_mean=mean, running_var=var, momentum=0.1):
            return lambda impl: impl.batchnorm2d_running_stats(
                x, running_mean, running_var, momentum=momentum)

        def case(description, call, raises, names, needs=()):
            return ErrorInput(description, call, raises, names, frozenset(needs),
                              (x, gamma, beta, mean, var))

        value, stats = (ValueError,), {"running_stats"}
        return [
            case("x of ndim 3", forward(x=x[0]), value + (TypeError,), ("x",)),
            case("gamma of shape (4,) for 3 channels", forward(gamma=short), value, ("gamma",)),
            case("beta of shape (4,) for 3 channels", forward(beta=short), value, ("beta",)),
            case("eps 0", forward(eps=0.0), value, ("eps",)),
            case("eps -1e-5", forward(eps=-1e-5), value, ("eps",)),
            case("eps nan", forward(eps=float("nan")), value, ("eps",)),
            case("training on one value per channel", forward(x=single), value, ("x",)),
            case("eval without running_mean", forward(training=False, running_mean=None),
                 value, ("running_mean",), ("eval",)),
            case("eval with running_var of shape (4,)", forward(training=False,
                                                                running_var=short),
                 value, ("running_var",), ("eval",)),
            case("momentum 1.5", update(momentum=1.5), value, ("momentum",), stats),
            case("momentum -0.1", update(momentum=-0.1), value, ("momentum",), stats),
            case("running statistics of one value per channel", update(x=single), value,
                 ("x",), stats),
            case("running_mean None", update(running_mean=None), value, ("running_mean",),
                 stats),
            case("running_var of shape (4,)", update(running_var=short), value,
                 ("running_var",), stats),
        ]

    # -- calling -------------------------------------------------------------------------------

    def out_shape(self, case):
        return case.x_shape

    def forward(self, impl, arrays, case):
        call = self.call_arguments(arrays, case)
        out, cache = expect_pair("batchnorm2d_forward", impl.batchnorm2d_forward(
            call.pop("x"), call.pop("gamma"), call.pop("beta"), eps=case.eps, **call))
        expect_array("batchnorm2d_forward output", out, case.x_shape, case.dtype)
        return out, cache

    def backward(self, impl, grad_out, cache, case):
        result = expect_tuple("batchnorm2d_backward", impl.batchnorm2d_backward(grad_out, cache),
                              ("grad_x", "grad_gamma", "grad_beta"))
        shapes = (case.x_shape, (case.channels,), (case.channels,))
        return expect_grads(dict(zip(self.inputs, shapes)), result, case.dtype)

    def exercise(self, impl, case, feature):
        if feature == "running_stats":
            self._running_stats(impl, case.arrays(), case)
        else:
            super().exercise(impl, case, feature)

    def side_results(self, impl, arrays, case):
        """The running statistics, where claimed and defined (two values per channel)."""
        if not impl.capabilities.claims(self.name, "running_stats") or case.m < 2:
            return {}
        return self._running_stats(impl, arrays, case)

    def _running_stats(self, impl, arrays, case):
        result = expect_tuple("batchnorm2d_running_stats", impl.batchnorm2d_running_stats(
            arrays["x"], arrays["running_mean"], arrays["running_var"], momentum=case.momentum),
            ("new_mean", "new_var"))
        return {name: expect_array(name, value, (case.channels,), case.dtype)
                for name, value in zip(("new_mean", "new_var"), result)}

    # -- truth -----------------------------------------------------------------------------------

    def oracle(self, arrays, case, grad_out=None):
        out, gx, ggamma, gbeta = torch_oracle().batchnorm2d(
            arrays["x"], arrays["gamma"], arrays["beta"], grad_out, training=case.training,
            running_mean=arrays["running_mean"], running_var=arrays["running_var"], eps=case.eps)
        return out, ({} if grad_out is None else {"x": gx, "gamma": ggamma, "beta": gbeta})

    def side_oracle(self, arrays, case):
        new_mean, new_var = torch_oracle().batchnorm2d_running_stats(
            arrays["x"], arrays["running_mean"], arrays["running_var"], momentum=case.momentum)
        return {"new_mean": new_mean, "new_var": new_var}

    # -- error analysis --------------------------------------------------------------------------

    def _statistics(self, arrays, case) -> _Statistics:
        x = np.asarray(arrays["x"], np.float64)
        u = unit_roundoff(case.dtype)
        if case.training:
            mean = x.mean(axis=CHANNEL_AXES, keepdims=True)
            var = np.square(x - mean).mean(axis=CHANNEL_AXES, keepdims=True)
            S = np.sqrt(var + case.eps)
            M = np.abs(x).mean(axis=CHANNEL_AXES, keepdims=True) / S
            rho = case.m * u * M**2
        else:
            mean = _channel(arrays["running_mean"])
            S = np.sqrt(_channel(arrays["running_var"]) + case.eps)
            M = np.abs(mean) / S
            rho = np.zeros_like(M)
        return _Statistics(mean, S, (x - mean) / S, M, rho)

    def _xhat_scale(self, stats: _Statistics) -> np.ndarray:
        """X_j: the error of a computed xhat_j is at most (m + 8) u X_j.

        Training: the mean's error m u mean|x| shifts every x - mean (M); each difference rounds
        (u H_j); the variance has relative error (m + 2) u plus (mean error)^2 / (var + eps) =
        m u rho, so S has half that, and xhat_j relative (m + 2) u / 2 + m u rho / 2; the
        division (or the multiplication by a rounded 1/S) adds a few u. Altogether within
        (m + 8) u (M + H_j (1 + rho / 2)). Eval: x - running_mean is one rounding of inputs, but
        a fused x * (1/S) - mean * (1/S) (PyTorch's own eval form) rounds |x| / S and |mean| / S,
        so X_j = |x_j| / S + M, at most 8 roundings; (m + 8) covers both."""
        return stats.M + np.abs(stats.xhat) * (1 + stats.rho / 2)

    def error_scale(self, arrays, case, grad_out):
        """Training, per channel (G = sum |g|, GH = sum |g| |xhat|, X_j from _xhat_scale):

        out_j = gamma xhat_j + beta               |gamma| X_j + |beta|
        grad_beta = sum g                          G
        grad_gamma = sum g xhat                    sum |g_j| X_j
        grad_x_j = gamma / (m S) (m g_j - sum g - xhat_j sum g xhat)

        The three terms of grad_x cancel, so its error is that of each term: m |g_j| and G,
        plus the third's: the mean's error shifts every xhat by up to m u M, which moves
        xhat_j sum g xhat by M (GH + H_j G); its own rounding and the variance's error give
        H_j GH; and the mean's error squared reaches the variance, rho (G + H_j GH). The
        classic dvar/dmu chain rule rounds the same terms. So
            grad_x_j scale = |gamma| / (m S) (m |g_j| + G + M (GH + H_j G) + H_j GH
                                              + rho (G + H_j GH)).
        Eval is linear in x: grad_x_j = gamma g_j / S, scale |gamma| |g_j| / S, and grad_gamma
        sums |g_j| X_j as in training."""
        stats = self._statistics(arrays, case)
        gamma, beta = np.abs(_channel(arrays["gamma"])), np.abs(_channel(arrays["beta"]))
        X = self._xhat_scale(stats)
        out = gamma * X + beta
        if grad_out is None:
            return out, {}
        g = np.abs(np.asarray(grad_out, np.float64))

        def total(a):
            return a.sum(axis=CHANNEL_AXES, keepdims=True)

        G, H = total(g), np.abs(stats.xhat)
        grads = {"beta": G.reshape(-1), "gamma": total(g * X).reshape(-1)}
        if case.training:
            GH = total(g * H)
            grads["x"] = gamma / (case.m * stats.S) * (
                case.m * g + G + stats.M * (GH + H * G) + H * GH + stats.rho * (G + H * GH))
        else:
            grads["x"] = gamma * g / stats.S
        return out, grads

    def terms(self, case):
        """Roundings behind each element, each relative to its error scale (error_scale): the
        m-term sums of the statistics and of the gradients, plus the few operations around
        them (see _xhat_scale); grad_x counts the errors of xhat twice (in xhat_j and in
        sum g xhat). Running statistics: the m-term mean (m + 3) and the variance's two passes
        (m + 5), see side_error_scale."""
        m = case.m
        return {"out": m + 8, "x": 2 * (m + 8), "gamma": m + 8, "beta": m,
                "new_mean": m + 3, "new_var": m + 5}

    def side_error_scale(self, arrays, case):
        """new_mean = (1 - momentum) old + momentum mean: the mean rounds m u mean|x|, so
        (1 - momentum) |old| + momentum mean|x|. new_var: the unbiased variance of centred
        values rounds (m + 3) u var_u, and the mean's error e <= m u mean|x| adds
        e^2 m / (m - 1); with mean|x| = A1 the scale is (1 - momentum) |old| +
        momentum (var_u + m u A1^2 m / (m - 1))."""
        x = np.asarray(arrays["x"], np.float64)
        m, momentum, u = case.m, case.momentum, unit_roundoff(case.dtype)
        a1 = np.abs(x).mean(axis=CHANNEL_AXES)
        var_u = x.var(axis=CHANNEL_AXES, ddof=1)
        old_mean = np.abs(np.asarray(arrays["running_mean"], np.float64))
        old_var = np.abs(np.asarray(arrays["running_var"], np.float64))
        return {"new_mean": (1 - momentum) * old_mean + momentum * a1,
                "new_var": (1 - momentum) * old_var
                + momentum * (var_u + m * u * a1**2 * m / (m - 1))}

    # -- finite differences --------------------------------------------------------------------

    def fd_step(self, case):
        """A power of two FD_STEPS times below the smallest S: x +- h v stays where the error
        scale at x describes the rounding (eval, linear in x, would take any step otherwise)
        and, in training, where the truncation bound holds."""
        stats = self._statistics(case.arrays(), case)
        return 2.0 ** (math.floor(math.log2(float(stats.S.min()))) - math.log2(FD_STEPS))

    def fd_truncation(self, case, arrays, name, direction, step):
        """Training, for x along v (linear in gamma and beta: 0). Per channel, with c = x -
        mean and d = v - mean(v), x(t) - mean(t) = c + t d and S(t)^2 = q(t) = (|c|^2 + 2t c.d
        + t^2 |d|^2) / m + eps. out_j(t) = gamma (c_j + t d_j) q^(-1/2), so
            out''' = gamma (3 d_j (q^(-1/2))'' + (c_j + t d_j) (q^(-1/2))''').
        With e = |d|^2 / m, Cauchy-Schwarz gives |q'| <= 2 sqrt(q e), and q'' = 2e, so
            |(q^(-1/2))''| <= 4 e / q^(3/2),   |(q^(-1/2))'''| <= 24 e^(3/2) / q^2,
        and for |t| <= h, q >= s^2 = max(0, sigma - h sqrt(e))^2 + eps, sigma the biased
        standard deviation. The truncation of a central difference is then at most
            h^2 / 6 |gamma| (12 |d_j| e / s^3 + (|c_j| + h |d_j|) 24 e^(3/2) / s^4)."""
        if not case.training or name != "x":
            return np.zeros(case.x_shape)
        x = np.asarray(arrays["x"], np.float64)
        v = np.asarray(direction, np.float64)
        c = x - x.mean(axis=CHANNEL_AXES, keepdims=True)
        d = v - v.mean(axis=CHANNEL_AXES, keepdims=True)
        e = np.square(d).mean(axis=CHANNEL_AXES, keepdims=True)
        sigma = np.sqrt(np.square(c).mean(axis=CHANNEL_AXES, keepdims=True))
        s = np.sqrt(np.maximum(0.0, sigma - step * np.sqrt(e)) ** 2 + case.eps)
        gamma = np.abs(_channel(arrays["gamma"]))
        third = (12 * np.abs(d) * e / s**3
                 + (np.abs(c) + step * np.abs(d)) * 24 * e**1.5 / s**4)
        return step**2 / 6 * gamma * third

    def fd_scale(self, impl, case, arrays, step):
        """The forward's error scale anywhere between the inputs -+ h v (|v| <= 1: xhat_j moves by
        at most 2 h / S, the mean by h / S, gamma and beta by h), plus what forming x +- h v
        rounds: u |x_k| in each input moves out_j by |gamma| / S (|x_j| + mean|x| + |xhat_j|
        mean(|xhat| |x|)) u, at most |gamma| (2 M + H_j (M + 2)) u."""
        stats = self._statistics(arrays, case)
        H = np.abs(stats.xhat) + 2 * step / stats.S
        M = stats.M + step / stats.S
        gamma = np.abs(_channel(arrays["gamma"])) + step
        out = gamma * (M + H * (1 + stats.rho / 2)) + np.abs(_channel(arrays["beta"])) + step
        return 2 * (out + gamma * (2 * M + H * (M + 2)))


BATCHNORM2D = BatchNorm2d()
RECORDS = (BATCHNORM2D,)
