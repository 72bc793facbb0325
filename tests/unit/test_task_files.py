"""The file formats' reversible parts: formula neutralising and the labels cell."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from taskapp.entrypoints.http.task_files import join_labels, neutralize, restore, split_labels

cells = st.text(alphabet=st.sampled_from("=+-@\t\r';\\x "), max_size=8) | st.text(max_size=8)


@given(cells)
def test_neutralized_cells_restore_exactly(cell: str) -> None:
    written = neutralize(cell)
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore(written) == cell


@given(st.lists(cells.filter(str.strip), max_size=5))
def test_labels_cell_splits_back(labels: list[str]) -> None:
    assert split_labels(join_labels(tuple(labels))) == labels


def test_labels_cell_examples() -> None:
    assert join_labels(("a;b", "c\\", "d")) == "a\\;b;c\\\\;d"
    assert split_labels("a;;b;") == ["a", "b"]
    assert split_labels("") == []
