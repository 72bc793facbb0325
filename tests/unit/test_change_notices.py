"""Change notices' payloads: comma-separated user ids, each notice under PostgreSQL's limit."""

from __future__ import annotations

import uuid

from taskapp.adapters.postgres.change_notices import IDS_PER_NOTICE, parse, payloads

PAYLOAD_LIMIT = 8000  # bytes, PostgreSQL's NOTIFY payload limit


def test_ids_are_split_into_notices_under_the_payload_limit() -> None:
    ids = [uuid.uuid4() for _ in range(2 * IDS_PER_NOTICE + 7)]
    notices = payloads(ids)
    assert len(notices) == 3
    assert all(len(notice.encode()) < PAYLOAD_LIMIT for notice in notices)
    assert [found for notice in notices for found in parse(notice)[0]] == ids


def test_one_id_is_its_own_payload_as_before() -> None:
    one = uuid.uuid4()
    assert payloads([one]) == [str(one)]
    assert parse(str(one)) == ([one], False)
    assert payloads([]) == []


def test_a_malformed_part_is_reported_and_the_others_kept() -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    assert parse(f"{one},nonsense,{two}") == ([one, two], True)
    assert parse("") == ([], True)
