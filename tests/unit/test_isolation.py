"""Learner code runs in a forked child with one wall-clock budget (driftlab/exercises/isolation.py)."""
from __future__ import annotations

import os
import time

from driftlab.exercises.entries import run_all
from driftlab.exercises.isolation import run_isolated
from driftlab.exercises.probing import Outcome


def test_items_stream_back_in_order():
    run = run_isolated(lambda: iter([1, {"a": [2, 3]}, "x"]), budget=10)
    assert run.items == [1, {"a": [2, 3]}, "x"] and not run.timed_out and run.crashed is None


def test_a_loop_in_c_is_killed_at_the_budget_and_the_finished_items_are_kept():
    def produce():
        yield "first"
        any(iter(int, 1))  # never ends, ignores signals handled in Python
        yield "never"

    started = time.monotonic()
    run = run_isolated(produce, budget=1.0)
    assert run.timed_out and run.items == ["first"]
    assert time.monotonic() - started < 3


def test_what_the_child_changes_dies_with_it():
    marker = {"touched": False}

    def produce():
        marker["touched"] = True
        os.environ["DRIFTLAB_CHILD"] = "1"
        yield marker["touched"]

    assert run_isolated(produce, budget=10).items == [True]
    assert marker["touched"] is False and "DRIFTLAB_CHILD" not in os.environ


def test_a_child_that_exits_or_raises_is_reported_not_raised():
    def exits():
        yield 1
        os._exit(3)

    run = run_isolated(exits, budget=10)
    assert run.items == [1] and run.crashed and not run.timed_out

    def raises():
        raise KeyboardInterrupt
        yield  # pragma: no cover

    assert run_isolated(raises, budget=10).crashed.startswith("KeyboardInterrupt")


def test_run_all_gives_one_outcome_per_call_and_times_out_the_rest():
    calls = [lambda: Outcome(value=1), lambda: Outcome(value=any(iter(int, 1))), lambda: Outcome(value=3)]
    outcomes = run_all(calls, budget=1.0)
    assert [o.value for o in outcomes[:1]] == [1] and [o.error for o in outcomes[1:]] == ["timeout", "timeout"]
