"""Every model the app offers has a plain name and a one-line description, and only those."""

from __future__ import annotations

from genre.models import model_names
from genre.models.names import MODEL_NAMES, model_title


def test_every_registered_model_has_a_plain_name_and_description() -> None:
    assert set(MODEL_NAMES) == set(model_names())
    for code, entry in MODEL_NAMES.items():
        assert entry.title and entry.title != code
        assert entry.summary.endswith(".") and "\n" not in entry.summary
    titles = [e.title for e in MODEL_NAMES.values()]
    assert len(set(titles)) == len(titles)  # no two models look alike in the picker
    assert model_title("musicnn_genre") == "Pretrained musicnn + linear head"
    assert model_title("not_a_model") == "not_a_model"
