"""examples/train_digits.py: a CNN built only from a certified implementation's layers learns
scikit-learn's digits."""
import time

import pytest

pytest.importorskip("sklearn", reason="the digits example needs scikit-learn "
                    "(pip install -e .[examples])")

from examples import train_digits  # noqa: E402


def test_the_default_implementation_trains_to_95_percent_in_under_a_minute():
    start = time.perf_counter()
    history = train_digits.train()
    seconds = time.perf_counter() - start
    assert history.impl == "im2col_strided"
    assert history.losses[-1] < history.losses[0] / 10
    assert all(later < earlier for earlier, later in zip(history.losses[::3],
                                                         history.losses[3::3]))
    assert history.accuracies[-1] >= 0.95
    assert seconds < 60


def test_the_command_line_prints_each_epoch_and_plots_the_curve(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib")
    png = tmp_path / "loss.png"
    assert train_digits.main(["--impl", "im2col_index", "--epochs", "2",
                              "--plot", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "training on digits with im2col_index" in printed
    assert "epoch  1  loss " in printed and "epoch  2  loss " in printed
    assert png.read_bytes().startswith(b"\x89PNG")
