from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.errors import InvalidTransition
from workflows.lifecycle import TERMINAL, TRANSITIONS, DraftState, Event, mermaid, transition

DIAGRAM = Path(__file__).resolve().parents[2] / "workflows" / "lifecycle.mmd"


def test_diagram_beside_the_table_is_current() -> None:
    assert DIAGRAM.read_text(encoding="utf-8") == mermaid()


def test_terminal_states_have_no_way_out() -> None:
    assert all(state not in TERMINAL for state, _ in TRANSITIONS)


def test_published_only_through_publishing() -> None:
    into_published = [key for key, target in TRANSITIONS.items() if target is DraftState.PUBLISHED]
    assert into_published == [(DraftState.PUBLISHING, Event.PUBLISHED)]
    into_publishing = {s for (s, _), t in TRANSITIONS.items() if t is DraftState.PUBLISHING}
    assert into_publishing == {DraftState.APPROVED, DraftState.SCHEDULED, DraftState.FAILED}


def test_a_revision_always_restarts_from_draft() -> None:
    revised = {s for (s, e) in TRANSITIONS if e is Event.REVISED}
    assert DraftState.PUBLISHING not in revised
    assert DraftState.PUBLISHED not in revised
    assert all(TRANSITIONS[(s, Event.REVISED)] is DraftState.DRAFT for s in revised)


@given(st.sampled_from(list(DraftState)), st.sampled_from(list(Event)))
def test_transition_is_the_table(state: DraftState, event: Event) -> None:
    if (state, event) in TRANSITIONS:
        assert transition(state, event) is TRANSITIONS[(state, event)]
    else:
        with pytest.raises(InvalidTransition) as caught:
            transition(state, event)
        assert state.label() in str(caught.value)
