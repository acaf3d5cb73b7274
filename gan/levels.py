"""How loud generated patches are next to real ones: near-silent dropouts.

A generator can learn to answer some noises with near silence (the mode-seeking term rewarded
it: two patches of one genre differ most when one of them is silent). No real segment of a genre
is that quiet, so the share of generated clips below the quietest real one counts them, and
sampling draws such a patch again with other noise (:func:`redraw_dropouts`, which does the same
for a patch with a half-second hole in it, gan.holes); a long clip's patches step in level by
at most a few dB, as real music's mostly do (:func:`even_level_steps`). In training, the level
guard (``gan train --level-guard``, :func:`level_shortfall`) charges the generator for them and
the musicnn spread term counts only audible pairs (:func:`audible`), so silence stops being the
cheapest variety.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import torch

from audio import LogMel
from gan.data import DB_CEIL, DB_FLOOR, PatchSampler, denormalise, normalise
from gan.holes import Dips, HoleLimits


def mel_levels(mel_db: torch.Tensor) -> np.ndarray:
    """Each patch's mean log-mel level in dB, clamped to the training range as the generator's
    output is (a patch of silence and a patch of -200 dB are the same to it)."""
    return denormalise(normalise(mel_db)).flatten(1).mean(1).double().numpy()


def real_levels_and_dips(waves: list[np.ndarray], frontend: LogMel) -> tuple[np.ndarray, Dips]:
    """:func:`mel_levels` and :class:`gan.holes.Dips` of real audio segments of one length,
    from one pass through the front-end."""
    levels, dips = [], []
    for start in range(0, len(waves), 16):
        batch = torch.from_numpy(np.stack(waves[start : start + 16]))
        with torch.inference_mode():
            mel = frontend(batch)
        levels.append(mel_levels(mel))
        dips.append(Dips.of(mel))
    return np.concatenate(levels), Dips.join(dips)


def genre_floors(levels: np.ndarray, genres: list[str]) -> dict[str, float]:
    """The quietest real level of each genre (dB): no real music of the genre is quieter."""
    floors: dict[str, float] = {}
    for level, genre in zip(levels, genres, strict=True):
        floors[genre] = min(floors.get(genre, np.inf), float(level))
    return floors


def quiet_shares(
    levels: np.ndarray, genres: list[str], real: np.ndarray, real_genres: list[str]
) -> dict[str, float]:
    """Per genre, the share of generated clips quieter than every real segment of that genre:
    near-silent dropouts no real music of the genre has (the mode-seeking term bred them)."""
    out = {}
    floors = genre_floors(real, real_genres)
    for genre in dict.fromkeys(genres):
        floor = floors.get(genre)
        if floor is not None:
            mine = levels[[g == genre for g in genres]]
            out[genre] = round(float(np.mean(mine < floor)), 3)
    return out


GUARD_DB = 10.0  # the level guard's unit: a patch this far below its genre's floor costs 1


def real_patch_floors(sampler: PatchSampler) -> torch.Tensor:
    """Per class [n_classes], the mean level of its quietest real patch (every window of
    ``sampler.frames`` of every clip), in the normalised units of the generator's output."""
    floors = []
    for group in sampler.by_class:
        lows = [mel.mean(0).unfold(0, sampler.frames, 1).mean(1).min() for mel in group
                if mel.shape[1] >= sampler.frames]  # fmt: skip
        floors.append(torch.stack(lows).min() if lows else torch.tensor(-1.0))
    return torch.stack(floors).float()


def patch_level(patches: torch.Tensor) -> torch.Tensor:
    """Normalised patches [B, 1, n_mels, F] → each one's mean level [B], in the same units
    (differentiable: what the guard and the floors compare)."""
    return patches.mean(dim=(1, 2, 3))


def audible(patches: torch.Tensor, genres: torch.Tensor, floors: torch.Tensor) -> torch.Tensor:
    """Which normalised patches [B, 1, n_mels, F] are at least as loud as their genre's
    quietest real patch (``floors`` from :func:`real_patch_floors`): bool [B]."""
    return patch_level(patches) >= floors[genres]


def level_shortfall(
    patches: torch.Tensor, genres: torch.Tensor, floors: torch.Tensor
) -> torch.Tensor:
    """How far generated patches [B, 1, n_mels, F] fall below their genre's quietest real
    patch, in units of ``GUARD_DB`` (0 for a patch at or above it), averaged over the batch:
    real music of a genre is never that quiet, so only dropouts pay."""
    db_per_unit = (DB_CEIL - DB_FLOOR) / 2
    below = torch.relu(floors[genres] - patch_level(patches))
    return (below * db_per_unit / GUARD_DB).mean()


# The generator shipped on 2026-11-26 (ψ = 1) drew 39 % of its pop patches near-silent (200
# patches); three redraws left 1.5 % of them, five about 0.2 %. The one shipped on 2026-11-30
# draws 39 % of its patches near-silent or holed at first, up to 78 % for one recording (seed
# 777, 60 a recording), so five redraws left about 2 % of its clips so and ten leave about
# 0.25 %. A redraw costs only a generator pass over the bad few.
MAX_REDRAWS = 10


def patch_floors(floors: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each patch's floor: its genre's (ids [N]), or for a blend (weights [N, n_classes]) the
    lowest of the genres it mixes (a blend may be as quiet as its quietest genre)."""
    if y.dim() == 1:
        return floors[y]
    return torch.where(y > 0, floors, torch.full_like(floors, torch.inf)).min(dim=1).values


def _fresh_noise(z: torch.Tensor, attempt: int) -> torch.Tensor:
    """New noise for one patch, a function of its old noise alone: the same sample (genre,
    seed, index) is redrawn the same way on any machine and whatever else is drawn with it."""
    digest = hashlib.blake2b(z.numpy().tobytes() + bytes([attempt]), digest_size=8).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest, "little") >> 1)
    return torch.randn(z.shape, generator=generator, dtype=z.dtype)


def redraw_dropouts(
    draw: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    mel_db: torch.Tensor,
    z: torch.Tensor,
    y: torch.Tensor,
    scale: float,
    floors: torch.Tensor | None = None,
    holes: HoleLimits | None = None,
) -> torch.Tensor:
    """Patches ``mel_db`` [N, n_mels, F] drawn from noise ``z`` [N, z_dim] (already scaled by
    ``scale``, the truncation) and condition ``y``: each one quieter than ``floors`` allows,
    or with a hole deeper than ``holes`` allow (gan.holes), is drawn again (``draw(z, y)`` →
    dB) with fresh noise, up to MAX_REDRAWS times."""
    limit = None if floors is None else patch_floors(floors, y).double().numpy()
    for attempt in range(MAX_REDRAWS):
        bad = np.zeros(mel_db.shape[0], dtype=bool)
        if limit is not None:
            bad |= mel_levels(mel_db) < limit
        if holes is not None:
            bad |= holes.holed(Dips.of(mel_db))
        redo = np.flatnonzero(bad)
        if redo.size == 0:
            break
        z = z.clone()
        for i in redo:
            z[i] = _fresh_noise(z[i], attempt) * scale
        index = torch.from_numpy(redo)
        mel_db = mel_db.clone()
        mel_db[index] = draw(z[index], y[index])
    return mel_db


# The most a long clip's consecutive patches (2.2 s apart) may step in level, in dB. The
# generator's walks stepped more than real music's windows as far apart (median 2.2 against
# 1.0 dB; over 10 dB in 10 % of steps against 1.3 %: audible cuts). Of 2, 2.5, 3, 3.5, 4, 5, 6, 7,
# 8 and 10.9 dB (real music's 99th percentile), 2.5 brought the generated steps' distribution
# nearest to real music's (Wasserstein distance 2.32 -> 1.04 dB; 4 dB: 1.14; confirmed on other
# walks: 2.53 -> 1.04, 4 dB 1.17) while the change of sound between patches, each patch's level
# aside, stayed as it was (docs/generator.md, long clips).
MAX_LEVEL_STEP_DB = 2.5


def even_level_steps(mel_db: torch.Tensor, max_step_db: float = MAX_LEVEL_STEP_DB) -> torch.Tensor:
    """Clips of consecutive patches [n, patches, n_mels, F] in dB, each patch shifted by a
    constant so that its mean level steps at most ``max_step_db`` from the previous patch's,
    as shifted: the level follows the generator, its cuts do not. (The generator's patches lie
    within its dB range, where this mean is :func:`mel_levels`.) A patch's sound, its level
    aside, is unchanged; one-patch clips are returned as they are."""
    if mel_db.shape[1] < 2:
        return mel_db
    levels = mel_db.mean(dim=(2, 3))
    kept = levels.clone()
    for k in range(1, mel_db.shape[1]):
        previous = kept[:, k - 1]
        kept[:, k] = torch.clamp(levels[:, k], previous - max_step_db, previous + max_step_db)
    return mel_db + (kept - levels)[:, :, None, None]
