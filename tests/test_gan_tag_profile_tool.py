"""tools/gan_tag_profile.py: what the backbone's tags say of generated clips beside real ones
of the same genre, both through the same sonification (run as a user would, on the shipped
generator and the shared clips)."""

from __future__ import annotations

import json
from functools import partial

from tests.tool_loading import TOOLS_DIR, load_tool, run_script

TOOL = TOOLS_DIR / "gan_tag_profile.py"
run_tool = partial(run_script, TOOL)


def test_the_profile_gap_is_0_for_one_profile_and_1_for_profiles_without_a_common_tag() -> None:
    gap = load_tool(TOOL).profile_gap
    assert gap({"jazz": 0.6, "blues": 0.2}, {"jazz": 0.3, "blues": 0.1}) == 0.0  # same shape
    assert gap({"jazz": 0.5}, {"electronic": 0.2}) == 1.0
    assert 0.0 < gap({"jazz": 0.5, "rock": 0.5}, {"jazz": 0.5, "electronic": 0.5}) < 1.0


def test_the_tool_reports_tags_and_heard_genres_of_generated_and_real_clips() -> None:
    done = run_tool("--per-genre", "2", "--genres", "jazz,hiphop", "--top", "5")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["per_genre"] == 2 and set(report["genres"]) == {"jazz", "hiphop"}
    for genre in report["genres"].values():
        assert 0.0 <= genre["profile_gap"] <= 1.0
        for side in ("generated", "real"):
            tags = genre[side]["top_tags"]
            assert len(tags) == 5
            assert [s for _, s in tags] == sorted((s for _, s in tags), reverse=True)
            assert abs(sum(genre[side]["heard"].values()) - 1.0) < 0.01
    # The real side is real music of that genre: its backbone tags real jazz as jazz.
    assert "jazz" in [tag for tag, _ in report["genres"]["jazz"]["real"]["top_tags"][:3]]


def test_an_unknown_genre_is_one_clear_line_and_exit_2() -> None:
    done = run_tool("--genres", "polka")
    assert done.returncode == 2
    assert "Unknown genre 'polka'. The generator knows: blues" in done.stderr
    assert "Traceback" not in done.stderr
