"""One class per recording (``gan train --condition recording``): the generator learns each
training recording as its own class instead of one class per genre.

Why: conditioned on ten genres, the shipped generator drew about six of a genre's ten recordings
and two of its clips differed 0.61 times as much as two real excerpts of the genre (the judge's
diversity). Grown to one class per recording and trained on, that rose to 0.80-0.82 at both
evaluation seeds in 5 600 CPU steps, with the Fréchet distance where it was and clips no nearer
to any one recording than real excerpts are to each other (docs/generator.md).

Everything that trains (the discriminator's projection and genre head, the musicnn head, the
level guard's floors) simply works per recording: the sampler's labels are recordings. Whatever
plays a bundle still asks for genres: a :class:`RecordingPicker` turns each clip's genre (or blend
of genres) into one of that genre's recordings, chosen by the clip's first noise vector, so every
patch of a long clip keeps the recording it started with and a seed gives the same clips
everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gan.errors import GanError

RECORDING_SEPARATOR = "/"  # a recording's label: "<genre>/<file name>"
# The picker's projection is drawn from this seed: fixed, so a bundle's clips never change.
PICKER_SEED = 99
# The generator's class tables: every row of these is one class (genre or recording).
CLASS_TABLES = ("embed.weight", ".gain.weight", ".bias.weight")


def recording_label(genre: str, file_name: str) -> str:
    return f"{genre}{RECORDING_SEPARATOR}{file_name}"


def genre_of(label: str) -> str:
    """A recording label's genre; a genre label is its own."""
    return label.split(RECORDING_SEPARATOR, 1)[0]


def recording_genres(recordings: Sequence[str], genres: Sequence[str]) -> torch.Tensor:
    """Each recording's genre id in ``genres`` [n_recordings]; a GanError for a recording
    whose genre is not there."""
    unknown = sorted({genre_of(r) for r in recordings} - set(genres))
    if unknown:
        raise GanError(f"Recordings of genres the generator does not know: {', '.join(unknown)}.")
    return torch.tensor([list(genres).index(genre_of(r)) for r in recordings])


def label_genres(labels: Sequence[str]) -> tuple[str, ...]:
    """The genres of class labels (genres or recordings), each once, in order of first
    appearance."""
    return tuple(dict.fromkeys(genre_of(label) for label in labels))


def class_genre_ids(labels: Sequence[str]) -> torch.Tensor:
    """Each class's genre id [n_classes], the genres numbered as :func:`label_genres` orders
    them: for genre labels 0, 1, 2…; for recording labels the id of each one's genre."""
    return recording_genres(labels, label_genres(labels))


def two_genre_classes(
    class_genres: torch.Tensor, n: int, generator: torch.Generator
) -> torch.Tensor:
    """``n`` classes [n] of two random genres, half each (``class_genres`` [n_classes]: each
    class's genre id; with one class per recording, random recordings of each genre), so that a
    batch holds several patches of a genre for a per-genre measure (the distribution term)."""
    class_genres = class_genres.cpu()
    picked = torch.randperm(int(class_genres.max()) + 1, generator=generator)[:2]
    out = []
    for k, genre in enumerate(picked):
        members = (class_genres == genre).nonzero().squeeze(1)
        count = n // 2 if k == 0 else n - n // 2
        out.append(members[torch.randint(len(members), (count,), generator=generator)])
    return torch.cat(out)


def genre_cross_entropy(
    logits: torch.Tensor, classes: torch.Tensor, class_genres: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of class logits [B, n_classes] against the genres of ``classes`` [B]: a
    genre's probability is the sum of its classes' (``class_genres`` [n_classes])."""
    n_genres = int(class_genres.max()) + 1
    member = class_genres[None, :] == torch.arange(n_genres, device=logits.device)[:, None]
    # 0 on a genre's own classes, -inf elsewhere: [n_genres, n_classes]
    masked = logits.new_zeros(member.shape).masked_fill(~member, float("-inf"))
    genre_logits = (logits[:, None, :] + masked[None]).logsumexp(dim=2)  # [B, n_genres]
    return torch.nn.functional.cross_entropy(genre_logits, class_genres[classes])


def is_class_table(name: str) -> bool:
    return name == CLASS_TABLES[0] or name.endswith(CLASS_TABLES[1:])


def grown_tables(
    weights: dict[str, torch.Tensor], genres: Sequence[str], recordings: Sequence[str]
) -> dict[str, torch.Tensor]:
    """A genre-conditioned generator's weights with every class table grown to one row per
    recording, each a copy of its genre's row: it draws exactly what it drew before, and
    training can then move each recording's row its own way."""
    rows = recording_genres(recordings, genres)
    return {name: (value[rows].clone() if is_class_table(name) else value)
            for name, value in weights.items()}  # fmt: skip


@dataclass(frozen=True)
class RecordingPicker:
    """Turns genre conditions into recording conditions for a generator with one class per
    recording. ``genres_of``: each recording's genre id [n_recordings]; ``playable``: whether
    sampling may pick it [n_recordings] (``gan gate`` leaves out recordings whose clips are seldom
    heard as their genre)."""

    genres_of: torch.Tensor
    projection: torch.Tensor  # [z_dim, n_recordings]
    playable: torch.Tensor  # bool [n_recordings]

    @classmethod
    def build(
        cls,
        genres_of: torch.Tensor,
        z_dim: int,
        seed: int = PICKER_SEED,
        playable: torch.Tensor | None = None,
    ) -> RecordingPicker:
        rng = torch.Generator().manual_seed(seed)
        # drawn for every recording, played or not, so leaving one out never moves the others
        projection = torch.randn(z_dim, len(genres_of), generator=rng)
        if playable is None:
            playable = torch.ones(len(genres_of), dtype=torch.bool)
        return cls(genres_of, projection, playable)

    @property
    def n_genres(self) -> int:
        return int(self.genres_of.max()) + 1

    def choices(self, z: torch.Tensor) -> torch.Tensor:
        """For each noise vector [N, z_dim], the recording it picks in every genre
        [N, n_genres]: the genre's playable recording whose projection of the noise is largest,
        so each is picked about equally often and the same noise always picks the same one."""
        scores = z.to(self.projection.dtype) @ self.projection  # [N, n_recordings]
        out = torch.empty(len(z), self.n_genres, dtype=torch.long)
        for genre in range(self.n_genres):
            members = torch.nonzero((self.genres_of == genre) & self.playable).flatten()
            out[:, genre] = members[scores[:, members].argmax(dim=1)]
        return out

    def condition(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Genre ids [N] → recording ids [N]; genre weights [N, n_genres] (a blend, each row
        summing to 1) → recording weights [N, n_recordings], each genre's weight on the
        recording it picks. ``z`` [N, z_dim]: the noise that picks (a clip's first)."""
        picked = self.choices(z)
        if not y.is_floating_point():
            return picked[torch.arange(len(y)), y]
        out = torch.zeros(len(y), len(self.genres_of), dtype=y.dtype)
        return out.scatter_add_(1, picked, y)
