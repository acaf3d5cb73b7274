"""Training data: normalised log-mel patches cut from the shared GTZAN clips.

Every clip's whole log-mel is computed once (with the shared torch front-end) and kept in
memory; a batch is a set of random 128-frame crops, balanced over genres. Random offsets give
far more distinct patches than a fixed grid, which matters with only ten clips per genre.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from audio import AudioError, LogMel, MelSpec, load_audio
from gan.errors import GanError
from gan.losses import paired_genres
from gan.recordings import recording_label
from genre.datasets import discover, skipped_note
from genre.errors import GenreError
from genre.labels import GTZAN_GENRES
from genre.paths import shared_gtzan_dir

# The spectrogram the GAN learns: 128 mels × 128 frames ≈ 2.97 s at 22050 Hz, hop 512.
PATCH_SPEC = MelSpec(sample_rate=22050, n_fft=2048, hop=512, n_mels=128, log="db")
PATCH_FRAMES = 128
# dB range mapped to [-1, 1]; GTZAN's mel power sits between about -45 and +36 dB, and
# anything below -80 dB is inaudible next to it, so the floor costs nothing audible.
DB_FLOOR = -80.0
DB_CEIL = 40.0


def normalise(mel_db: torch.Tensor, floor: float = DB_FLOOR, ceil: float = DB_CEIL) -> torch.Tensor:
    """dB → [-1, 1] (the range of the generator's tanh)."""
    mid, half = (ceil + floor) / 2, (ceil - floor) / 2
    return (mel_db.clamp(floor, ceil) - mid) / half


def denormalise(x: torch.Tensor, floor: float = DB_FLOOR, ceil: float = DB_CEIL) -> torch.Tensor:
    """[-1, 1] → dB."""
    mid, half = (ceil + floor) / 2, (ceil - floor) / 2
    return x.clamp(-1.0, 1.0) * half + mid


@dataclass(frozen=True)
class ClipMel:
    genre: str
    number: int
    path: Path
    mel: torch.Tensor  # normalised log-mel [n_mels, frames]


def default_audio_root() -> Path:
    return shared_gtzan_dir() / "audio"


def clip_mel(path: Path, spec: MelSpec = PATCH_SPEC) -> torch.Tensor:
    """A clip's whole dB log-mel [n_mels, frames] (raises :class:`GanError` if unreadable)."""
    try:
        audio = load_audio(path, sample_rate=spec.sample_rate)
    except AudioError as err:
        raise GanError(f"Cannot read {path.name}: {err}") from err
    with torch.inference_mode():
        return LogMel(spec)(torch.from_numpy(audio.samples)).clone()


def load_clips(
    root: str | Path | None = None,
    labels: tuple[str, ...] = GTZAN_GENRES,
    limit_per_genre: int | None = None,
    skipped: list[tuple[Path, str]] | None = None,
) -> list[ClipMel]:
    """Normalised log-mels of every labelled clip under ``root`` (genre folders).

    Files that cannot be used are left out and appended to ``skipped`` with their reason; when
    a genre ends up without clips, the error names them.
    """
    root = Path(root) if root is not None else default_audio_root()
    try:
        dataset = discover(root)
    except GenreError as err:
        raise GanError(str(err)) from err
    left_out = skipped if skipped is not None else []
    left_out += dataset.skipped
    clips: list[ClipMel] = []
    counts: dict[str, int] = {}
    for track in sorted(dataset.tracks, key=lambda t: (t.genre, t.number)):
        if track.genre not in labels:
            continue
        if limit_per_genre is not None and counts.get(track.genre, 0) >= limit_per_genre:
            continue
        try:
            mel = clip_mel(track.path)
        except GanError as err:
            left_out.append((track.path, str(err.__cause__ or err)))
            continue
        if mel.shape[1] < PATCH_FRAMES:
            left_out.append((track.path, "shorter than one 3-s patch"))
            continue
        counts[track.genre] = counts.get(track.genre, 0) + 1
        clips.append(ClipMel(track.genre, track.number, track.path, normalise(mel)))
    missing = [g for g in labels if g not in counts]
    if missing:
        raise GanError(
            f"The training folder {root} has no usable clips for: {', '.join(missing)}. "
            "Every genre needs at least one clip of 3 s or more." + skipped_note(left_out)
        )
    return clips


class PatchSampler:
    """Random class-balanced batches of patches [B, 1, n_mels, PATCH_FRAMES] with class ids [B].

    A class is a genre (``labels``), or with ``condition="recording"`` one clip, labelled
    ``genre/file name`` (gan.recordings), whatever genres are given."""

    def __init__(
        self,
        clips: list[ClipMel],
        labels: tuple[str, ...] = GTZAN_GENRES,
        frames: int = PATCH_FRAMES,
        condition: str = "genre",
    ) -> None:
        self.clips = clips
        self.genres = labels
        self.frames = frames
        self.condition = condition
        if condition == "recording":
            ordered = sorted((c for c in clips if c.genre in labels),
                             key=lambda c: (labels.index(c.genre), c.path.name))  # fmt: skip
            self.labels = tuple(recording_label(c.genre, c.path.name) for c in ordered)
            if len(set(self.labels)) != len(self.labels):
                raise GanError("Two clips of one genre share a file name: one class per "
                               "recording needs each to have its own.")  # fmt: skip
            self.by_class = [[c.mel] for c in ordered]
        else:
            self.labels = labels
            self.by_class = [[c.mel for c in clips if c.genre == g] for g in labels]
        if not set(labels) <= {c.genre for c in clips}:
            raise GanError("Every genre needs at least one clip to train the GAN.")

    def conditioned_by(self, condition: str) -> PatchSampler:
        """This sampler's clips with one class per genre or per recording."""
        if condition == self.condition:
            return self
        return PatchSampler(self.clips, self.genres, self.frames, condition)

    @property
    def n_clips(self) -> int:
        return sum(len(group) for group in self.by_class)

    def sample(
        self, batch_size: int, generator: torch.Generator, paired: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``paired``: patch i and i + B/2 share a class and come from different clips of it
        (where it has two or more), as the pair discriminator's real pairs (gan.pairs)."""
        genres = torch.randint(len(self.labels), (batch_size,), generator=generator)
        half = batch_size // 2
        if paired:
            genres = paired_genres(genres)
        picked: list[int] = []
        patches = []
        for i, g in enumerate(genres.tolist()):
            group = self.by_class[g]
            if paired and half <= i < 2 * half and len(group) > 1:
                # another clip than its partner's: a draw among the rest, shifted past it
                other = int(torch.randint(len(group) - 1, (1,), generator=generator))
                index = other + (other >= picked[i - half])
            else:
                index = int(torch.randint(len(group), (1,), generator=generator))
            picked.append(index)
            mel = group[index]
            start = int(torch.randint(mel.shape[1] - self.frames + 1, (1,), generator=generator))
            patches.append(mel[:, start : start + self.frames])
        return torch.stack(patches).unsqueeze(1), genres
