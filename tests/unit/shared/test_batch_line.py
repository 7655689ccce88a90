"""The hand-off of group commit's lead (``shared.jobs.intake.BatchLine``), step by step on one thread,
so that the interleavings that once lost a slot are driven exactly rather than hoped for."""

from shared.jobs.intake import BatchLine


def test_below_the_limit_a_request_leads_a_batch_of_its_own_and_at_the_limit_it_waits():
    line = BatchLine(max_in_flight=2, max_batch=64)

    assert line.arrive("a") == ["a"]
    assert line.arrive("b") == ["b"]
    assert line.arrive("c") is None
    assert (line.in_flight, line.waiting) == (2, 1)


def test_two_batches_that_finish_together_never_hand_the_same_request_the_lead():
    # The race of the first hour: a and b finish before the request they hand the lead to has
    # started its batch. Each finish takes its own requests out of the line, or frees its slot.
    line = BatchLine(max_in_flight=2, max_batch=64)
    line.arrive("a"), line.arrive("b")
    line.arrive("c")

    handed_by_a = line.finish()
    handed_by_b = line.finish()

    assert handed_by_a == ["c"]
    assert handed_by_b is None, "nothing was left to lead: b's slot is free again"
    assert line.in_flight == 2 - 1, "c's batch is in flight, b's slot is free"
    assert line.arrive("d") == ["d"], "a new request leads at once in the freed slot"
    assert line.arrive("e") is None


def test_every_slot_is_given_back_when_the_line_empties():
    line = BatchLine(max_in_flight=2, max_batch=64)
    line.arrive("a"), line.arrive("b"), line.arrive("c"), line.arrive("d")

    assert line.finish() == ["c", "d"]
    assert line.finish() is None
    assert line.finish() is None

    assert (line.in_flight, line.waiting) == (0, 0)


def test_a_batch_takes_at_most_max_batch_requests_and_the_rest_wait_for_the_next():
    line = BatchLine(max_in_flight=1, max_batch=2)
    line.arrive("a")
    for request in "bcde":
        line.arrive(request)

    assert line.finish() == ["b", "c"]
    assert line.finish() == ["d", "e"]
    assert line.finish() is None
    assert line.in_flight == 0
