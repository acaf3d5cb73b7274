"""Mood → search queries: every emotion × several languages, with and without artists."""

from __future__ import annotations

import pytest

from mood import EMOTIONS, MoodError
from mood.queries import DEFAULT_TABLE, LANGUAGES, Query, build_queries, normalise_table


@pytest.mark.parametrize("emotion", EMOTIONS)
@pytest.mark.parametrize("language", ["English", "Hindi", "Spanish", "Japanese"])
def test_every_emotion_and_language_without_artists(emotion, language):
    queries = build_queries(emotion, language)
    assert len(queries) == 2 and all(q.artist is None for q in queries)
    words = DEFAULT_TABLE[emotion]
    for q in queries:
        assert q.text.endswith(f"{language} songs")
        assert any(w in q.text for w in words)
    assert queries[0].text == f"{words[0]} {words[1]} {language} songs"
    assert len({q.text for q in queries}) == 2


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_artists_get_their_own_queries_first(emotion):
    queries = build_queries(emotion, "Spanish", ["Shakira", "  Rosalía ", "Shakira", ""])
    artists = [q.artist for q in queries]
    assert artists == ["Shakira", "Rosalía", None, None]
    lead = " ".join(DEFAULT_TABLE[emotion][:2])
    assert queries[0] == Query(f"Shakira {lead} songs", "Shakira")
    assert queries[1].text == f"Rosalía {lead} songs"


def test_sad_gets_comforting_music_not_sadder_music():
    texts = " ".join(q.text for q in build_queries("sad", "English"))
    assert "soothing" in texts and "comforting" in texts
    texts = " ".join(q.text for q in build_queries("angry", "English"))
    assert "calm" in texts


def test_instrumental_is_music_not_songs():
    assert build_queries("neutral", "Instrumental")[0].text.endswith("Instrumental music")
    assert "English" in LANGUAGES and "Hindi" in LANGUAGES


def test_edited_table_is_used_and_validated():
    edited = {"happy": "sunny, bouncy ,", "sad": ["warm", "gentle", "hopeful"]}
    assert build_queries("happy", "French", table=edited)[0].text == "sunny bouncy French songs"
    assert normalise_table(edited)["sad"] == ("warm", "gentle", "hopeful")
    assert normalise_table(edited)["fear"] == DEFAULT_TABLE["fear"]  # untouched rows keep defaults
    with pytest.raises(MoodError, match="at least one word"):
        normalise_table({"happy": " , "})
    with pytest.raises(MoodError, match="Unknown emotion"):
        normalise_table({"bored": "x"})


def test_bad_inputs_are_user_errors():
    with pytest.raises(MoodError, match="Unknown emotion"):
        build_queries("bored", "English")
    with pytest.raises(MoodError, match="at most 5 artists"):
        build_queries("happy", "English", [f"artist {i}" for i in range(6)])
    with pytest.raises(MoodError, match="too long"):
        build_queries("happy", "x" * 100)
    assert build_queries("happy", "   ")[0].text.endswith("English songs")  # empty → default
