"""The later notebooks run in quick mode, as tests/test_notebooks.py runs the earlier ones: a
second file, so that `make test`'s two workers share the kernels (a file stays on one worker)."""

from __future__ import annotations

import pytest

from test_notebooks import (LATER, NOTEBOOKS, check_no_tensorflow_log_line, check_runs_in_quick_mode,
                            check_stays_under_3_mb)

LATER_NOTEBOOKS = [p for p in NOTEBOOKS if p.name in LATER]


def test_the_later_notebooks_are_there():
    assert [p.name for p in LATER_NOTEBOOKS] == sorted(LATER)


@pytest.mark.parametrize("path", LATER_NOTEBOOKS, ids=lambda p: p.name)
def test_runs_in_quick_mode(path):
    check_runs_in_quick_mode(path)


@pytest.mark.parametrize("path", LATER_NOTEBOOKS, ids=lambda p: p.name)
def test_no_tensorflow_log_line_reaches_an_output(path):
    check_no_tensorflow_log_line(path)


@pytest.mark.parametrize("path", LATER_NOTEBOOKS, ids=lambda p: p.name)
def test_executed_notebook_stays_under_3_mb(path):
    check_stays_under_3_mb(path)
