"""Each gradient's row judges its own gradient: a malformed grad_x fails grad_x (and the checks
that read every gradient), never grad_weight or grad_bias."""
import numpy as np
import pytest

from conformance.ops import ContractViolation
from conformance.ops.base import expect_weighted_grads
from conformance.runner import FAILED, PASSED, run_check
from tests.corpus import EXAMPLE_TIMEOUT
from tests.corpus.conv_gradients import grad_x_padding_not_cropped

SPEC = "tests.corpus.conv_gradients:grad_x_padding_not_cropped"


def _run(check):
    return run_check(grad_x_padding_not_cropped, SPEC, "conv2d", check, "ci",
                     example_timeout=EXAMPLE_TIMEOUT)


def test_a_malformed_grad_x_fails_grad_x_and_leaves_grad_weight_and_grad_bias_passing():
    grad_x = _run("grad_x")
    assert grad_x.status == FAILED
    assert grad_x.message.startswith("grad_x has shape (") and ", expected (" in grad_x.message
    for check in ("grad_weight", "grad_bias"):
        result = _run(check)
        assert result.status == PASSED, (check, result.message)
        assert "padding" in result.features     # the cases where grad_x is malformed
    adjoint = _run("adjoint")
    assert adjoint.status == FAILED and adjoint.message.startswith("grad_x has shape")


def test_a_result_that_is_no_triple_or_a_bias_gradient_without_bias_fails_every_gradient():
    x = np.zeros((1, 1, 2, 2))
    with pytest.raises(ContractViolation, match="must return"):
        expect_weighted_grads("conv2d", (x, x), x.shape, x.shape, None, "float64")
    with pytest.raises(ContractViolation, match="grad_bias must be None"):
        expect_weighted_grads("conv2d", (x, x, x[0, 0, 0]), x.shape, x.shape, None, "float64")
    grads = expect_weighted_grads("conv2d", (x[0], x, None), x.shape, x.shape, None, "float64")
    assert grads["weight"] is x
    with pytest.raises(ContractViolation, match=r"grad_x has shape \(1, 2, 2\)"):
        grads["x"]
    with pytest.raises(ContractViolation, match="grad_x has shape"):
        dict(grads)
