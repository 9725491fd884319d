"""The later notebooks run in quick mode, as tests/test_notebooks.py runs the earlier ones: a
second file, so that `make test`'s two workers share the kernels (a file stays on one worker)."""

from __future__ import annotations

from test_notebooks import LATER, NOTEBOOKS, executed_notebook_tests

LATER_NOTEBOOKS = [p for p in NOTEBOOKS if p.name in LATER]


def test_the_later_notebooks_are_there():
    assert [p.name for p in LATER_NOTEBOOKS] == sorted(LATER)


test_runs_in_quick_mode, test_no_tensorflow_log_line_reaches_an_output, test_executed_notebook_stays_under_3_mb = \
    executed_notebook_tests(LATER_NOTEBOOKS)
