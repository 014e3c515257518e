"""`brainmap.events`: listeners hear every event while they live, and stop when collected."""

from __future__ import annotations

import gc

import pytest

from brainmap import events


class Recorder:
    def __init__(self) -> None:
        self.heard_events: list[events.Event] = []

    def heard(self, event: events.Event) -> None:
        self.heard_events.append(event)


def test_listeners_hear_events_while_they_live() -> None:
    first, second = Recorder(), Recorder()
    events.listen(first)
    events.listen(second)
    events.lookups("tiles", 2, 1)
    with events.rendering("image/png"):
        pass
    for recorder in (first, second):
        assert recorder.heard_events[0] == events.CacheLookups("tiles", 2, 1)
        rendered = recorder.heard_events[1]
        assert isinstance(rendered, events.Rendered)
        assert rendered.media_type == "image/png"
        assert rendered.seconds >= 0
    del first
    gc.collect()
    events.listen(Recorder())  # drops the references to listeners gone
    assert all(reference() is not None for reference in events._LISTENERS[:-1])
    events.lookups("pyramids", 1, 0)
    assert second.heard_events[-1] == events.CacheLookups("pyramids", 1, 0)


def test_a_render_that_fails_is_not_reported() -> None:
    recorder = Recorder()
    events.listen(recorder)
    with pytest.raises(ValueError, match="breaks"), events.rendering("image/jpeg"):
        raise ValueError("a render that breaks")
    assert recorder.heard_events == []
