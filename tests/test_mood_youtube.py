"""YouTube search: the yt-dlp flat-result parser, ranking, exports, and the offline fallback
with the real (absent) network and with a loopback proxy that never answers."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import urllib.parse
from pathlib import Path

import pytest

from mood import MoodError
from mood.queries import Query, build_queries
from mood.youtube import (
    fallback_links,
    parse_flat_results,
    probe_youtube,
    rank,
    recommend,
    search_url,
    to_csv,
    to_m3u,
)
from tests.mood_helpers import SilentProxy

FIXTURE = Path(__file__).parent / "fixtures" / "mood" / "ytsearch_flat.json"


@pytest.fixture(scope="module")
def flat() -> dict:
    return json.loads(FIXTURE.read_text())


def test_parser_keeps_playable_videos_only(flat):
    videos = parse_flat_results(flat, "upbeat happy English songs")
    ids = [v.id for v in videos]
    # channel result and the upcoming premiere are dropped; the duplicate stays until ranking
    assert ids == [
        "kHq3Lm9tW0c", "Xb7pQ2nV8sE", "p0Zr4Ty6uIq", "Xb7pQ2nV8sE",
        "Lw3Ng8Hs2Kd", "Vt5Yu7Io9Pa", "Jk8Hg6Fd4Sa",
    ]  # fmt: skip
    golden = videos[1]
    assert golden.title == "Maya Rivers - Golden Hour (Official Video)"
    assert golden.channel == "Maya Rivers" and golden.duration_s == 214.0
    assert golden.duration_text == "3:34" and videos[0].duration_text == "1:02:01"
    assert golden.url == "https://www.youtube.com/watch?v=Xb7pQ2nV8sE"
    assert "hq720.jpg" in golden.thumbnail and "CNAFEJQD" in golden.thumbnail  # the 720-wide one
    assert golden.query == "upbeat happy English songs"
    short, live = videos[4], videos[5]
    assert short.url == "https://www.youtube.com/shorts/Lw3Ng8Hs2Kd"
    assert live.duration_s is None and live.duration_text == "–"
    assert live.thumbnail == "https://i.ytimg.com/vi/Vt5Yu7Io9Pa/hqdefault.jpg"


def test_parser_tolerates_empty_and_odd_input():
    assert parse_flat_results(None) == []
    assert parse_flat_results({}) == []
    assert parse_flat_results({"entries": [None, 3, {"id": "x"}, {"title": "t"}]}) == []


def test_rank_deduplicates_interleaves_and_prefers_artists(flat):
    first = parse_flat_results(flat, "q1")
    second = parse_flat_results({"entries": flat["entries"][5:]}, "q2")
    ranked = rank([first, second], artists=["maya rivers"], limit=20)
    ids = [v.id for v in ranked]
    assert len(ids) == len(set(ids)) == 6
    assert ids[0] == "Xb7pQ2nV8sE"  # the chosen artist first
    assert rank([first], limit=3)[2].id == "p0Zr4Ty6uIq"
    assert [v.id for v in rank([first], artists=["nobody"])][:2] == ["kHq3Lm9tW0c", "Xb7pQ2nV8sE"]


def test_exports(flat):
    videos = rank([parse_flat_results(flat, "q")])
    rows = list(csv.DictReader(io.StringIO(to_csv(videos))))
    assert len(rows) == len(videos)
    assert rows[1]["title"] == videos[1].title and rows[1]["url"].endswith("Xb7pQ2nV8sE")
    live = next(r for r in rows if r["url"].endswith("Vt5Yu7Io9Pa"))
    assert live["duration_s"] == ""
    m3u = to_m3u(videos).splitlines()
    assert m3u[0] == "#EXTM3U"
    assert m3u[3] == "#EXTINF:214,Maya Rivers - Golden Hour (Official Video)"
    assert m3u[4] == "https://www.youtube.com/watch?v=Xb7pQ2nV8sE"
    assert len(m3u) == 1 + 2 * len(videos)
    assert "#EXTINF:-1,Good Vibes Radio - Feel Good Friday" in to_m3u(videos)  # live: no duration
    assert "#EXTINF:3721,Good Vibes Radio - Sunny Side Up" in to_m3u(videos)


def test_search_links_encode_the_query():
    url = search_url("Beyoncé & Jay-Z happy songs")
    assert url.startswith("https://www.youtube.com/results?search_query=")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["search_query"][0]
    assert query == "Beyoncé & Jay-Z happy songs"
    links = fallback_links(build_queries("sad", "Hindi", ["Arijit Singh"]))
    assert links[0].query == "Arijit Singh soothing comforting songs"


def test_offline_flag_gives_links_without_network():
    queries = build_queries("happy", "English")
    result = recommend(queries, offline=True)
    assert result.status == "links" and not result.online and result.videos == []
    assert [link.query for link in result.links] == [q.text for q in queries]
    assert json.loads(json.dumps(result.as_dict()))["links"][0]["url"].startswith("https://")


def _youtube_resolves() -> bool:
    box: list[bool] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo("www.youtube.com", 443)
            box.append(True)
        except OSError:
            box.append(False)

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(5)
    return bool(box and box[0])


@pytest.mark.timeout(60)
def test_real_network_falls_back_to_links_quickly():
    """This machine has no route to YouTube: the search must say so and give links."""
    queries = build_queries("sad", "Spanish", ["Shakira"])
    result = recommend(queries, ["Shakira"], timeout=5.0)
    if _youtube_resolves():  # a machine with internet: real results or a classified failure
        assert result.status in ("ok", "empty", "error", "timeout")
    else:
        assert probe_youtube(2.0) is not None
        assert result.status == "offline", result.message
        assert "cannot be" in result.message and result.videos == []
        assert len(result.links) == len(queries) == 3


@pytest.mark.timeout(60)
def test_unanswered_search_times_out_with_links():
    proxy = SilentProxy()
    try:
        queries = [Query("calm relaxing English songs"), Query("chill English songs")]
        # Long enough for yt-dlp to import and reach the proxy on a loaded 2-core machine (2 s
        # was not, once in CI): the timeout must come from the silent proxy, not a slow start.
        result = recommend(queries, timeout=8.0, proxy=proxy.url)
    finally:
        proxy.close()
    assert proxy.clients, "yt-dlp never tried the proxy"
    assert result.status == "timeout", result.message
    assert "did not answer" in result.message
    assert [link.query for link in result.links] == [q.text for q in queries]


def test_recommend_rejects_bad_settings():
    with pytest.raises(MoodError):
        recommend([])
    with pytest.raises(MoodError):
        recommend([Query("x")], per_query=0)
    with pytest.raises(MoodError):
        recommend([Query("x")], timeout=0)
