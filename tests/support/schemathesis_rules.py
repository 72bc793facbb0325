"""The rules schemathesis judges taskapp by, beyond its built-in checks: one module for
the in-suite test (tests/api/test_schemathesis.py imports it) and the live run against a
real server (`make fuzz`, tests/api/test_live_fuzz.py; the CLI loads it through
SCHEMATHESIS_HOOKS=tests.support.schemathesis_rules).

Every check stays on (`--checks all`). What this module adds is one `filter_failure` hook
(schemathesis 4: "drop check failures that fail the predicate", run on every failure of
every check, in every phase, the CLI's and the Python API's alike). It drops exactly three
kinds of failure, all answers a schema cannot predict, and keeps everything else:

1. positive_data_acceptance ("schema-valid request rejected") when the answer is a 422 whose
   details name only reference fields (`_REFERENCES`, `_FILE_REFERENCES` below): a value of
   the right form whose validity is a fact of the data (whose list it is, whether the zone
   exists, whose cursor it is).
2. positive_data_acceptance and negative_data_rejection when the answer is a 412 to a
   request that carried If-Match. The document's pattern says what a precondition looks
   like ("<version>", a list, or *), so a generated one is well formed; whether it names
   the current version is a fact of the data (in a stateful sequence the task may have
   changed since its ETag was read), so a well-formed one is rightly 412. And a failed
   precondition is 412 whatever the value (RFC 9110, 13.1.1), so one outside the pattern
   is rightly 412 too. A 412 to a request without If-Match is still a failure.
3. positive_data_acceptance when the answer is 422 IDEMPOTENCY_KEY_REUSED to a request that
   carried Idempotency-Key: the schema states a key's form; whether the caller already used
   it (with another body, in the last 24 hours) is a fact of the data. The CLI sends the
   document's example key with every body its coverage phase makes, so only the first
   creates; the in-suite test gives each example a key of its own.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import RejectedPositiveData

# Fields naming another resource of the caller's (a list, a parent task, a neighbour):
# whether the id exists, belongs to the caller and fits (no cycle, not too deep, a sibling)
# is a fact of the data a schema cannot state, so a schema-valid id may rightly be a 422.
# A sync cursor (GET /sync?cursor=) is bound to the user it was issued to: the schema
# states its form, not whose it is, so a well-formed one of nobody's is rightly a 422 too.
# Labels: "at most 20 after case-insensitive duplicates collapse" and "not blank once
# trimmed of Unicode whitespace" are rules over the whole set and over Unicode, which a
# JSON Schema cannot state either (the schema bounds what it can: 1-50 characters each).
# A webhook's `url` must resolve to public addresses only (a DNS fact; in the in-suite
# tests no name resolves at all), which a string schema cannot state either.
# A time zone (`tz`) is checked against the zones the system knows; the schema states its
# form (an enum of 600 names would be no help to anyone reading the document).
_REFERENCES = {"list_id", "parent_id", "after_id", "before_id", "cursor", "labels", "tz", "url"}
# In an imported file (POST /tasks/import), the rows' ids refer to each other (a parent in
# the same list, no cycle, no id twice), and a CSV file's header and encoding are facts of
# its text: a string schema cannot state them either. A row's `labels` follow the rule of
# a task's (at most 20 once case-insensitive duplicates collapse; found by the live run:
# a row of 27 distinct labels, within the schema's maxItems of 100).
_FILE_REFERENCES = {"file", "id", "labels", "list_id", "list_name", "parent_id"}


def names_a_missing_reference(response: Any) -> bool:
    """A 422 whose details all name reference fields (and at least one does)."""
    if response.status_code != 422:
        return False
    details = (response.json().get("error") or {}).get("details") or []
    return bool(details) and all(_is_reference(str(d.get("field"))) for d in details)


def _is_reference(field: str) -> bool:
    if field == "file" or field.startswith("rows["):
        return field.rpartition(".")[2] in _FILE_REFERENCES
    return field in _REFERENCES


def failed_precondition(response: Any, case: Any) -> bool:
    """A 412 to a request that carried If-Match."""
    return response.status_code == 412 and _sent(case, "if-match")


def reused_idempotency_key(response: Any, case: Any) -> bool:
    """A 422 IDEMPOTENCY_KEY_REUSED to a request that carried Idempotency-Key."""
    if response.status_code != 422 or not _sent(case, "idempotency-key"):
        return False
    return bool((response.json().get("error") or {}).get("code") == "IDEMPOTENCY_KEY_REUSED")


def _sent(case: Any, header: str) -> bool:
    return header in {name.lower() for name in case.headers or {}}


def is_a_fact_of_the_data(failure: Any, case: Any, response: Any) -> bool:
    """Whether `failure` is one of the three kinds this module drops (see the docstring)."""
    if isinstance(failure, RejectedPositiveData):
        return (
            names_a_missing_reference(response)
            or failed_precondition(response, case)
            or reused_idempotency_key(response, case)
        )
    if isinstance(failure, AcceptedNegativeData):
        return failed_precondition(response, case)
    return False


@schemathesis.hook("filter_failure")
def keep_failures_of_the_api(
    context: schemathesis.HookContext, failure: Any, case: Any, response: Any
) -> bool:
    return not is_a_fact_of_the_data(failure, case, response)
