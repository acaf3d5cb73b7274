"""YouTube search through yt-dlp's flat search, with a fast offline fallback.

Only the text query leaves the machine. Every network step is bounded: a quick reachability
probe, then all queries in parallel daemon threads with one overall deadline, so a blocked
network never leaves the caller waiting for more than ``timeout`` seconds. When nothing comes
back, the caller still gets clickable YouTube search links for the same queries.
"""

from __future__ import annotations

import csv
import io
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mood.errors import MoodError
from mood.network import probe_host, proxy_configured
from mood.queries import Query

YOUTUBE_HOST = "www.youtube.com"
SEARCH_RESULTS_URL = "https://www.youtube.com/results?search_query="
Status = Literal["ok", "offline", "timeout", "error", "empty", "links"]


@dataclass(frozen=True)
class Video:
    id: str
    title: str
    channel: str
    duration_s: float | None
    thumbnail: str | None
    url: str
    query: str = ""

    @property
    def duration_text(self) -> str:
        if self.duration_s is None:
            return "–"
        total = round(self.duration_s)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"

    def matches(self, artist: str) -> bool:
        needle = artist.casefold()
        return bool(needle) and (
            needle in self.title.casefold() or needle in self.channel.casefold()
        )


@dataclass(frozen=True)
class SearchLink:
    query: str
    url: str


@dataclass
class Recommendations:
    """What a search gave: videos when YouTube answered, always the fallback links."""

    queries: list[Query]
    videos: list[Video] = field(default_factory=list)
    links: list[SearchLink] = field(default_factory=list)
    status: Status = "ok"
    message: str = ""
    elapsed_s: float = 0.0

    @property
    def online(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "queries": [q.text for q in self.queries],
            "videos": [
                {
                    "title": v.title,
                    "channel": v.channel,
                    "duration_s": v.duration_s,
                    "url": v.url,
                    "thumbnail": v.thumbnail,
                    "query": v.query,
                }
                for v in self.videos
            ],
            "links": [{"query": link.query, "url": link.url} for link in self.links],
            "elapsed_s": round(self.elapsed_s, 3),
        }


def search_url(query: str) -> str:
    """A YouTube results page for the query: works in the user's browser without this app."""
    return SEARCH_RESULTS_URL + urllib.parse.quote_plus(query)


def fallback_links(queries: Iterable[Query]) -> list[SearchLink]:
    return [SearchLink(q.text, search_url(q.text)) for q in queries]


def _best_thumbnail(entry: Mapping[str, Any], video_id: str) -> str:
    thumbs = [t for t in entry.get("thumbnails") or [] if isinstance(t, Mapping) and t.get("url")]
    if thumbs:
        best = max(thumbs, key=lambda t: (t.get("width") or 0) * (t.get("height") or 0))
        return str(best["url"])
    return f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg"


def parse_flat_results(info: Mapping[str, Any] | None, query: str = "") -> list[Video]:
    """Videos from a yt-dlp ``ytsearchN:`` result made with ``extract_flat``.

    Channels, playlists and entries without an id or title are skipped.
    """
    videos: list[Video] = []
    for entry in (info or {}).get("entries") or []:
        if not isinstance(entry, Mapping):
            continue
        video_id, title = entry.get("id"), entry.get("title")
        url = str(entry.get("url") or "")
        is_video = entry.get("ie_key") == "Youtube" or "watch?v=" in url or "/shorts/" in url
        if not (is_video and isinstance(video_id, str) and video_id and title):
            continue
        if entry.get("live_status") == "is_upcoming":
            continue  # a premiere that cannot be played yet
        duration = entry.get("duration")
        videos.append(
            Video(
                id=video_id,
                title=str(title),
                channel=str(entry.get("channel") or entry.get("uploader") or ""),
                duration_s=float(duration) if isinstance(duration, int | float) else None,
                thumbnail=_best_thumbnail(entry, video_id),
                url=url or f"https://www.youtube.com/watch?v={video_id}",
                query=query,
            )
        )
    return videos


def rank(per_query: Sequence[Sequence[Video]], artists: Sequence[str] = (), limit: int = 20):
    """Merge the queries' results round-robin, drop repeats, put the chosen artists first."""
    merged: list[Video] = []
    seen_ids: set[str] = set()
    seen_titles: set[str] = set()
    depth = max((len(r) for r in per_query), default=0)
    for i in range(depth):
        for results in per_query:
            if i >= len(results):
                continue
            video = results[i]
            title_key = " ".join(video.title.casefold().split())
            if video.id in seen_ids or title_key in seen_titles:
                continue
            seen_ids.add(video.id)
            seen_titles.add(title_key)
            merged.append(video)
    merged.sort(key=lambda v: not any(v.matches(a) for a in artists))  # stable
    return merged[:limit]


def probe_youtube(timeout: float = 3.0) -> str | None:
    """None when YouTube's host resolves and accepts a TCP connection, else the reason."""
    return probe_host(YOUTUBE_HOST, timeout=timeout)


def flat_search(query: str, n: int, socket_timeout: float, proxy: str | None = None) -> dict:
    """yt-dlp's flat search: titles, channels, durations and thumbnails without video pages."""
    import yt_dlp  # imported here: it is slow to import and only needed online

    options: dict[str, Any] = {
        "quiet": True,
        "no_warnings": True,
        "skip_download": True,
        "extract_flat": True,
        "socket_timeout": socket_timeout,
        "retries": 0,
        "extractor_retries": 0,
        "noplaylist": True,
        "logger": _SilentLogger(),
    }
    if proxy:
        options["proxy"] = proxy
    with yt_dlp.YoutubeDL(options) as ydl:
        return ydl.extract_info(f"ytsearch{n}:{query}", download=False) or {}


class _SilentLogger:
    """yt-dlp prints errors to stderr by default; we report them ourselves."""

    def debug(self, msg: str) -> None:
        pass

    info = warning = error = debug


def _classify_failure(errors: Sequence[BaseException]) -> tuple[Status, str]:
    text = " ".join(str(e) for e in errors).lower()
    if any(
        k in text for k in ("resolve", "name or service", "network is unreachable", "getaddrinfo")
    ):
        return "offline", "YouTube cannot be reached from this machine (no network or DNS)."
    if "timed out" in text or "timeout" in text:
        return "timeout", "YouTube did not answer in time."
    first = str(errors[0]).removeprefix("ERROR: ")[:200] if errors else "unknown error"
    return "error", f"The YouTube search failed: {first}"


def recommend(
    queries: Sequence[Query],
    artists: Sequence[str] = (),
    per_query: int = 8,
    limit: int = 20,
    timeout: float = 10.0,
    offline: bool = False,
    proxy: str | None = None,
) -> Recommendations:
    """Search every query (bounded by ``timeout`` seconds in all) and rank the videos.

    Never raises for network trouble: the result then has ``status`` != "ok", a message for
    the user and the fallback search links.
    """
    if not queries:
        raise MoodError("No search queries to run.")
    if not 1 <= per_query <= 50:
        raise MoodError("Results per query must be between 1 and 50.")
    if timeout <= 0:
        raise MoodError("The search timeout must be positive.")
    start = time.monotonic()
    result = Recommendations(queries=list(queries), links=fallback_links(queries))

    def done(status: Status, message: str) -> Recommendations:
        result.status, result.message = status, message
        result.elapsed_s = time.monotonic() - start
        return result

    if offline:
        return done("links", "Offline mode: open these YouTube searches in your browser.")
    if not proxy_configured(proxy):
        reason = probe_youtube(min(3.0, timeout))
        if reason:
            return done("offline", f"YouTube cannot be reached: {reason}.")

    # All queries at once, each in a daemon thread: one overall deadline, and a hung request
    # can neither block the caller nor keep the process alive at exit.
    deadline = start + timeout
    boxes: list[list[tuple[bool, Any]]] = [[] for _ in queries]
    threads = []
    for query, box in zip(queries, boxes, strict=True):

        def job(q: Query = query, out: list = box) -> None:
            try:
                out.append((True, flat_search(q.text, per_query, timeout, proxy)))
            except BaseException as exc:
                out.append((False, exc))

        thread = threading.Thread(target=job, daemon=True, name="mood-search")
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    outcomes = [box[0] if box else (False, TimeoutError("timed out")) for box in boxes]

    per_query_videos = [
        parse_flat_results(payload, q.text) if ok else []
        for q, (ok, payload) in zip(queries, outcomes, strict=True)
    ]
    result.videos = rank(per_query_videos, artists, limit)
    errors = [payload for ok, payload in outcomes if not ok]
    if result.videos:
        note = " Some searches failed." if errors else ""
        return done("ok", f"{len(result.videos)} videos found.{note}")
    if errors:
        return done(*_classify_failure(errors))
    return done("empty", "YouTube found nothing for these queries; try other words or artists.")


def to_csv(videos: Sequence[Video]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["title", "channel", "duration_s", "url", "thumbnail", "query"])
    for v in videos:
        duration = "" if v.duration_s is None else f"{v.duration_s:g}"
        writer.writerow([v.title, v.channel, duration, v.url, v.thumbnail or "", v.query])
    return buffer.getvalue()


def to_m3u(videos: Sequence[Video]) -> str:
    """An extended M3U playlist of the video URLs (players such as mpv and VLC open it)."""
    lines = ["#EXTM3U"]
    for v in videos:
        seconds = -1 if v.duration_s is None else round(v.duration_s)
        # "Channel - Title" helps players, unless the title already names the channel.
        named = not v.channel or v.channel.casefold() in v.title.casefold()
        title = " ".join((v.title if named else f"{v.channel} - {v.title}").split())
        lines += [f"#EXTINF:{seconds},{title}", v.url]
    return "\n".join(lines) + "\n"
