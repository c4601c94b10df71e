"""Meta-tests of the op records and what derives from them: features_used, cases, strategies,
the check plan, the scaffold and the documentation."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings, strategies as st
from hypothesis.errors import NoSuchExample

from conformance import FEATURES, Capabilities, features_used
from conformance.cases import case_to_json
from conformance.checks import kind
from conformance.ops import OPS, SPOKEN
from conformance.scaffold import render
from conformance.sizes import SMALL
from conformance.suite import checks_for

ROOT = Path(__file__).resolve().parents[2]
RECORDS = list(OPS.values())
IDS = list(OPS)
SEARCH = settings(max_examples=2000, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))


def _everything(record):
    return frozenset(record.features)


def _base(record):
    """One feature of each choice group (the first): what every example needs."""
    return {group[0] for group in record.choices}


def _argument_features(record):
    """Features a case's forward arguments can use (not data or call features)."""
    return [f for f in record.features
            if f not in record.data_features and f not in record.call_features]


# -- features_used --------------------------------------------------------------------------

@pytest.mark.parametrize("record", [OPS[op] for op in SPOKEN], ids=list(SPOKEN))
def test_each_example_uses_exactly_the_feature_it_is_made_for(record):
    """The not-claimed check calls ``example(features)`` expecting a call that uses exactly
    those features: features_used must agree, feature by feature."""
    base = _base(record)
    assert record.features_of(record.example(frozenset(base))) == base
    for feature in _argument_features(record):
        group = next((g for g in record.choices if feature in g), ())
        wanted = {f for f in base if f not in group} | {feature}
        # An unequal stride, padding or dilation pair is also a stride, padding or dilation.
        implied = {feature.removeprefix("rectangular_")} & set(record.features) - {"kernel"}
        assert record.features_of(record.example(frozenset(wanted))) == wanted | implied, feature


def test_features_used_delegates_to_the_record_and_require_refuses_what_is_unclaimed():
    example = OPS["conv2d"].example(frozenset({"float32", "stride", "rectangular_kernel"}))
    call = OPS["conv2d"].call_arguments(example.arrays(), example)
    assert features_used("conv2d", **call) == {"float32", "stride", "rectangular_kernel"}
    with pytest.raises(NotImplementedError, match=r"\['rectangular_kernel'\] not claimed"):
        Capabilities({"conv2d": {"float32", "stride", "rectangular_stride"}}).require(
            "conv2d", **call)
    Capabilities({"conv2d": {"float32", "stride", "rectangular"}}).require("conv2d", **call)
    with pytest.raises(ValueError, match="op must be one of"):
        features_used("network", x=None)


def test_each_pair_is_rectangular_on_its_own():
    x, w = np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3))
    plain = dict(x=x, weight=w, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                 groups=1)
    for name, value, used in (("stride", (2, 1), {"stride", "rectangular_stride"}),
                              ("padding", (0, 1), {"padding", "rectangular_padding"}),
                              ("dilation", (1, 2), {"dilation", "rectangular_dilation"}),
                              ("weight", np.zeros((1, 1, 3, 1)), {"rectangular_kernel"})):
        assert features_used("conv2d", **{**plain, name: value}) == {"float64"} | used, name
    pool = dict(x=x, mode="avg", kernel_size=(3, 3), stride=(1, 1), padding=(0, 0))
    assert features_used("pool2d", **{**pool, "kernel_size": (2, 3)}) == {
        "float64", "avg", "rectangular_kernel"}


@pytest.mark.parametrize("op", ["conv2d", "pool2d"])
def test_malformed_arguments_are_no_features(op):
    """The values of error inputs are left to the validation: an invalid pair is neither a
    feature nor rectangular, an unknown mode or dtype is no feature."""
    x = np.zeros((1, 1, 6, 6))
    if op == "conv2d":
        plain = dict(x=x, weight=np.zeros((1, 1, 3, 3)), bias=None, stride=(1, 1),
                     padding=(0, 0), dilation=(1, 1), groups=1)
        bad = [("stride", (0, 1)), ("stride", (1, -2)), ("padding", (-1, 0)),
               ("dilation", (0, 0)), ("stride", "2"), ("groups", 0), ("groups", True),
               ("weight", np.zeros((1, 1, 0, 3))), ("x", x.astype(np.int64))]
    else:
        plain = dict(x=x, mode="max", kernel_size=(2, 2), stride=(1, 1), padding=(0, 0))
        bad = [("mode", "sum"), ("kernel_size", (0, 2)), ("stride", (0, 2)),
               ("padding", (-1, 0)), ("kernel_size", (2, 2, 2)), ("x", x.astype(np.int64))]
    base = features_used(op, **plain) - {"float64"}
    for name, value in bad:
        assert features_used(op, **{**plain, name: value}) <= base | {"float64"}, (name, value)


def test_features_are_the_records_and_composed_ops_claim_nothing_of_their_own():
    assert FEATURES == {op: OPS[op].features for op in SPOKEN}
    assert [op for op in OPS if op not in SPOKEN] == ["network"]
    assert Capabilities.everything().ops == SPOKEN


# -- cases and strategies ---------------------------------------------------------------------

def _configurations(record):
    """(allowed, required, tier, special) of every check that applies to the record."""
    everything = _everything(record)
    found = []
    for spec in checks_for(record.name):
        if spec.property is None:
            continue
        allowed = spec.allowed(everything)
        if allowed is not None:
            found.append((allowed, spec.required, spec.tier, spec.special))
    return found


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_case_json_round_trip(record):
    @settings(max_examples=50, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def round_trip(data):
        allowed, required, tier, special = data.draw(st.sampled_from(_configurations(record)))
        case = data.draw(record.strategy(allowed, required, tier, special))
        assert record.case_from_json(case_to_json(case)) == case

    round_trip()


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_strategies_reach_every_edge_case_they_declare(record):
    missed = []
    for edge in record.edge_cases:
        for allowed, required, tier, special in _configurations(record):
            try:
                find(record.strategy(allowed, required, tier, special),
                     lambda case: edge in record.edge_cases_of(case), settings=SEARCH)
                break
            except NoSuchExample:
                continue
        else:
            missed.append(edge)
    assert not missed, f"{record.name}: no strategy reaches {missed}"


def _reached_without_feature(record, edge, feature):
    """A case that hits ``edge`` without using ``feature`` (None when the search finds none)."""
    try:
        return find(record.strategy(_everything(record)),
                    lambda case: edge in record.edge_cases_of(case)
                    and feature not in record.features_of(case), settings=SEARCH)
    except NoSuchExample:
        return None


def _reached_within_limit(record, edge, limit):
    """A case within the declared ``limit`` that hits ``edge`` (None when none is found)."""
    try:
        return find(record.strategy(_everything(record), limits=frozenset({limit})),
                    lambda case: edge in record.edge_cases_of(case), settings=SEARCH)
    except NoSuchExample:
        return None


EDGE_NEEDS = [(record, edge, feature) for record in RECORDS
              for edge, needs in record.edge_case_needs.items() for feature in sorted(needs)]
EDGE_RULED_OUT = [(record, edge, limit) for record in RECORDS
                  for edge, limits in record.edge_cases_ruled_out.items()
                  for limit in sorted(limits)]


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_what_edge_cases_need_names_the_records_edge_cases_features_and_limits(record):
    assert set(record.edge_case_needs) | set(record.edge_cases_ruled_out) <= set(record.edge_cases)
    assert all(needs <= set(record.features) for needs in record.edge_case_needs.values())
    assert all(limits <= set(record.limits) for limits in record.edge_cases_ruled_out.values())


@pytest.mark.parametrize("record,edge,feature", EDGE_NEEDS,
                         ids=[f"{r.name}-{e}-{f}" for r, e, f in EDGE_NEEDS])
def test_an_edge_case_is_out_of_reach_without_a_feature_it_needs(record, edge, feature):
    """Reports leave an edge case out of "never hit" when its needs are unclaimed: no case
    without the feature may reach it."""
    assert _reached_without_feature(record, edge, feature) is None


@pytest.mark.parametrize("record,edge,limit", EDGE_RULED_OUT,
                         ids=[f"{r.name}-{e}-{lim}" for r, e, lim in EDGE_RULED_OUT])
def test_an_edge_case_ruled_out_by_a_limit_is_out_of_reach_within_it(record, edge, limit):
    case = _reached_within_limit(record, edge, limit)
    assert case is None, case


def test_the_reach_searches_find_an_edge_case_that_needs_no_such_thing():
    """The two searches above can fail: they find the cases a wrong declaration would hide."""
    assert _reached_without_feature(OPS["pool2d"], "overlapping windows", "stride") is not None
    assert _reached_without_feature(OPS["conv2d"], "no bias", "bias") is not None
    assert _reached_within_limit(OPS["conv2d"], "last window reaches into padding",
                                 "same_padding") is not None
    assert _reached_within_limit(OPS["pool2d"], "stride above kernel",
                                 "exact_division") is not None


@pytest.mark.parametrize("record", [OPS[op] for op in SPOKEN], ids=list(SPOKEN))
def test_strategies_use_only_allowed_features_and_every_required_one(record):
    """Cases never use a feature outside ``allowed`` (an implementation would refuse them), and
    always use the features a check requires of them."""
    everything = _everything(record)
    narrowable = [f for f in record.features if f not in record.call_features]
    required = {f for spec in checks_for(record.name) for f in spec.required} - set(
        record.call_features)
    for feature in narrowable:
        allowed = everything - {feature}
        if all(allowed & set(group) for group in record.choices):
            _every_case(record.strategy(allowed, frozenset(), SMALL, None),
                        lambda case: feature not in record.features_of(case))
    for feature in required - {"noncontiguous"}:
        _every_case(record.strategy(everything, frozenset({feature}), SMALL, None),
                    lambda case: feature in record.features_of(case))
    if "noncontiguous" in required:
        # Stored non-contiguously; NumPy calls arrays of one element (and channels-last arrays
        # with one channel or pixel, and channels-last of other than 4-D) contiguous anyway.
        _every_case(record.strategy(everything, frozenset({"noncontiguous"}), SMALL, None),
                    lambda case: case.layout != "contiguous")


def _every_case(strategy, holds):
    @settings(max_examples=20, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def property_(case):
        assert holds(case), case

    property_()


# -- the check plan ---------------------------------------------------------------------------

@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_every_declared_check_has_a_kind_and_a_unique_name(record):
    names = [use.name for use in record.applicable()]
    assert len(names) == len(set(names))
    for use in record.applicable():
        kind(use.kind or use.name)
        assert use.exclude <= set(record.features) and use.required <= set(record.features)
        assert use.tier is None or use.tier in record.sizes
    for spec in checks_for(record.name):
        assert spec.tier in record.sizes, f"{record.name}.{spec.name}: no {spec.tier} sizes"


# -- the scaffold and the documentation ---------------------------------------------------------

def test_scaffold_has_every_function_of_every_op_validating_before_require():
    tree = ast.parse(render("scaffolded"))
    methods = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    for op in SPOKEN:
        for function in OPS[op].functions:
            assert function.name in methods, function.name
            assert ast.get_docstring(methods[function.name])
    text = render("scaffolded")
    for op in SPOKEN:
        assert f"#   {op}: {' '.join(OPS[op].features)}" in text
        first = text.index(f'CAPABILITIES.require("{op}"')
        assert text.rindex("First validate the arguments", 0, first) > text.rindex(
            "@staticmethod", 0, first)


def test_contract_documents_every_function_feature_and_check():
    contract = (ROOT / "docs" / "contract.md").read_text()
    for op in SPOKEN:
        assert f"### {op}" in contract or f" {op}," in contract or f", {op}" in contract, op
        for function in OPS[op].functions:
            assert f"def {function.name}({function.signature})" in contract, function.name
        for feature in OPS[op].features:
            assert f"`{feature}`" in contract, (op, feature)
    for record in RECORDS:
        for use in record.applicable():
            assert f"`{use.name}`" in contract, use.name


def test_code_cites_no_document_outside_the_repository():
    cited = []
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts or ".tox" in path.parts or path == Path(__file__).resolve():
            continue
        for name in ("DESIGN.md",):
            if name in path.read_text():
                cited.append(f"{path.relative_to(ROOT)} cites {name}")
    assert not cited


def test_capabilities_import_without_torch_or_hypothesis():
    code = ("import sys\n"
            "sys.modules['torch'] = sys.modules['hypothesis'] = None  # importing them fails\n"
            "from conformance import Capabilities, output_size\n"
            "import conformance.ops, conformance.sizes, conformance.scaffold\n"
            "assert Capabilities.everything().ops\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
