"""Not-music sounds made with numpy, for :mod:`genre.negatives` (16 kHz mono): noises (white,
pink, brown, mains hum, room tone, applause-like bursts, wind, rain, clicks, a metronome),
everyday sounds (plate clinks, typing, footsteps, an idling engine, animal calls, birdsong),
tones (steady sines, beeps like a browser's fake microphone, sweeps) and silence-like
recordings. :data:`SYNTHETIC` names each family, its not-music kind and its maker.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from audio import degrade

SAMPLE_RATE = 16000


def peak_at(x: np.ndarray, db: float) -> np.ndarray:
    peak = float(np.max(np.abs(x))) or 1.0
    return (x / peak * 10 ** (db / 20)).astype(np.float32)


def coloured_noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise with power ∝ 1/f^exponent (0 white, 1 pink, 2 brown) at :data:`SAMPLE_RATE`."""
    return degrade.coloured_noise(rng, n, exponent, SAMPLE_RATE)


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE


def _hum(rng: np.random.Generator, seconds: float) -> np.ndarray:
    mains = rng.choice([50.0, 60.0])
    t = _t(seconds)
    tone = sum(rng.uniform(0.2, 1) / k * np.sin(2 * np.pi * mains * k * t) for k in range(1, 8))
    return tone + 0.05 * coloured_noise(rng, len(t), 1)


def _room_tone(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = len(_t(seconds))
    return coloured_noise(rng, n, 2) + 0.3 * coloured_noise(rng, n, 1) + 0.1 * _hum(rng, seconds)


def _bursts(rng: np.random.Generator, seconds: float, rate: float, decay_s: float) -> np.ndarray:
    """Poisson noise bursts (claps at a high rate: applause; sparse: knocks)."""
    n = len(_t(seconds))
    out = np.zeros(n)
    length = int(decay_s * 6 * SAMPLE_RATE)
    envelope = np.exp(-np.arange(length) / (decay_s * SAMPLE_RATE))
    for start in rng.integers(0, n - length, rng.poisson(rate * seconds)):
        out[start : start + length] += rng.uniform(0.3, 1) * rng.standard_normal(length) * envelope
    return out + 0.01 * rng.standard_normal(n)


def _wind(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Gusting wind or distant traffic: a deep rumble whose loudness swells every few seconds."""
    t = _t(seconds)
    gusts = 1 + 0.7 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 2 * np.pi))
    return coloured_noise(rng, len(t), 2.5) * gusts


def _rain(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Rain on a window: hundreds of tiny drops a second over a soft hiss."""
    n = len(_t(seconds))
    return _bursts(rng, seconds, rate=300, decay_s=0.002) + 0.05 * coloured_noise(rng, n, 1) / (
        np.std(coloured_noise(rng, 4096, 1)) or 1.0
    )


def _clicks(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """A metronome: identical short clicks at a steady tempo."""
    n = len(_t(seconds))
    period = int(60 / rng.uniform(50, 180) * SAMPLE_RATE)
    click_len = int(0.015 * SAMPLE_RATE)
    click = np.sin(2 * np.pi * rng.uniform(800, 3000) * _t(0.015)) * np.exp(
        -np.arange(click_len) / 40
    )
    out = 1e-3 * rng.standard_normal(n)
    for start in range(0, n - click_len, period):
        out[start : start + click_len] += click
    return out


def _tone(rng: np.random.Generator, seconds: float) -> np.ndarray:
    t = _t(seconds)
    f = rng.uniform(80, 3000)
    harmonics = rng.integers(1, 4)
    steady = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, harmonics + 1))
    # A tone played through a speaker or a sound card carries some hiss.
    return steady + 10 ** (rng.uniform(-60, -25) / 20) * rng.standard_normal(len(t))


def _beeps(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Short sine beeps at a steady interval, like a browser's fake microphone."""
    t = _t(seconds)
    f = rng.uniform(400, 2000)
    period = rng.uniform(0.5, 2.0)
    on = (t % period) < rng.uniform(0.05, 0.3)
    return np.sin(2 * np.pi * f * t) * on + 1e-4 * rng.standard_normal(len(t))


def _sweep(rng: np.random.Generator, seconds: float) -> np.ndarray:
    t = _t(seconds)
    f0, f1 = sorted(rng.uniform(50, 6000, 2))
    rate = np.log(f1 / f0) / seconds
    return np.sin(2 * np.pi * f0 * (np.exp(rate * t) - 1) / rate)


def _silence_like(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """A quiet room with nothing happening, peaking at -70..-45 dBFS (digital silence is
    refused by the decoder before any model sees it)."""
    return peak_at(_room_tone(rng, seconds), rng.uniform(-70, -45))


# --- everyday sounds: the kind a room or a street makes while a phone listens ---------------


def _hits(rng: np.random.Generator, n: int, times: np.ndarray, make_hit: Callable) -> np.ndarray:
    """Sum of one sound per start time (seconds), each drawn by ``make_hit(rng)``."""
    out = np.zeros(n)
    for start in (times * SAMPLE_RATE).astype(int):
        hit = make_hit(rng)[: max(0, n - start)]
        out[start : start + len(hit)] += hit
    return out


def _clink(rng: np.random.Generator) -> np.ndarray:
    """A plate or glass struck: a few inharmonic partials ringing down."""
    t = _t(rng.uniform(0.15, 0.5))
    partials = rng.uniform(1200, 7000, rng.integers(3, 7))
    ring = sum(np.sin(2 * np.pi * f * t) * np.exp(-t / rng.uniform(0.02, 0.25)) for f in partials)
    return rng.uniform(0.2, 1) * ring + 0.3 * rng.standard_normal(len(t)) * np.exp(-t / 0.004)


def _dishes(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = len(_t(seconds))
    times = np.sort(rng.uniform(0, seconds, rng.poisson(rng.uniform(1.5, 5) * seconds)))
    water = 0.05 * coloured_noise(rng, n, 0.5) * (rng.random() < 0.5)
    return _hits(rng, n, times, _clink) + water / (np.std(water) or 1) * 0.05


def _phrases(
    rng: np.random.Generator,
    seconds: float,
    start: float,
    events: tuple[int, int],
    within: tuple[float, float],
    between: tuple[float, float],
) -> np.ndarray:
    """Start times of events in bursts (words typed, chirps sung): ``events`` per burst, spaced
    by ``within`` seconds, bursts apart by ``between``."""
    times, now = [], start
    while now < seconds:
        for _ in range(rng.integers(*events)):
            times.append(now)
            now += rng.uniform(*within)
        now += rng.uniform(*between)
    return np.asarray([t for t in times if t < seconds])


def _typing(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Keys pressed in words of 2-8 letters, with pauses between words."""
    n = len(_t(seconds))
    times = _phrases(rng, seconds, 0.0, (2, 9), (0.06, 0.2), (0.2, 1.5))

    def key(r: np.random.Generator) -> np.ndarray:
        burst = np.diff(r.standard_normal(int(0.012 * SAMPLE_RATE)), prepend=0.0)
        return r.uniform(0.3, 1) * burst * np.exp(-np.arange(len(burst)) / 40)

    return _hits(rng, n, times, key) + 1e-3 * (
        coloured_noise(rng, n, 1) / (np.std(coloured_noise(rng, 4096, 1)) or 1)
    )


def _footsteps(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Someone walking: a soft thump and a scuff every half second or so, stopping now and then."""
    n, period = len(_t(seconds)), rng.uniform(0.45, 0.7)
    times = (
        np.arange(0, seconds, period)
        + rng.normal(0, 0.03 * period, int(seconds / period) + 1)[
            : len(np.arange(0, seconds, period))
        ]
    )
    times = times[(times > 0) & (rng.random(len(times)) > 0.15)]

    def step(r: np.random.Generator) -> np.ndarray:
        length = int(0.12 * SAMPLE_RATE)
        thump = coloured_noise(r, length, 2.5) * np.exp(-np.arange(length) / (0.02 * SAMPLE_RATE))
        scuff = r.standard_normal(length) * np.exp(-np.arange(length) / (0.01 * SAMPLE_RATE))
        return thump / (np.abs(thump).max() or 1) + r.uniform(0.05, 0.3) * scuff

    return _hits(rng, n, times, step) + 0.01 * coloured_noise(rng, n, 2) / (
        np.std(coloured_noise(rng, 4096, 2)) or 1
    )


def _engine(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """An idling engine or a fan: a low buzz whose speed wanders, in rumble."""
    t = _t(seconds)
    f0 = rng.uniform(20, 60) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    buzz = sum(np.sin(k * phase) / k ** rng.uniform(0.7, 1.5) for k in range(1, 16))
    rumble = coloured_noise(rng, len(t), 2)
    return buzz / (np.std(buzz) or 1) + rng.uniform(0.3, 2) * rumble / (np.std(rumble) or 1)


def _call(rng: np.random.Generator) -> np.ndarray:
    """One animal call (a miaow, a bark): a harmonic voice gliding up and down."""
    t = _t(rng.uniform(0.15, 0.7))
    base = rng.uniform(250, 900)
    f0 = base * (1 + rng.uniform(0.1, 0.6) * np.sin(np.pi * t / t[-1]))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    formant = rng.uniform(800, 3000)
    voice = sum(
        np.sin(k * phase) * np.exp(-(((k * base - formant) / 1200) ** 2)) for k in range(1, 12)
    )
    envelope = np.clip(np.sin(np.pi * t / t[-1]), 0, 1) ** 0.5
    return voice * envelope + 0.2 * rng.standard_normal(len(t)) * np.exp(-t / 0.03)


def _animal(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = len(_t(seconds))
    times = np.cumsum(rng.uniform(0.4, 2.5, int(seconds / 0.4)))
    return _hits(rng, n, times[times < seconds - 0.1], _call) + 0.02 * _room_tone(rng, seconds) / (
        np.std(_room_tone(rng, 1.0)) or 1
    )


def _birdsong(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Phrases of quick chirps (fast whistled sweeps), pauses between, wind behind."""
    n = len(_t(seconds))
    times = _phrases(rng, seconds, rng.uniform(0, 1), (3, 12), (0.06, 0.15), (0.5, 3.0))

    def chirp(r: np.random.Generator) -> np.ndarray:
        t = _t(r.uniform(0.03, 0.12))
        f = np.linspace(*r.uniform(2000, 7000, 2), len(t))
        return np.sin(2 * np.pi * np.cumsum(f) / SAMPLE_RATE) * np.sin(np.pi * t / t[-1])

    wind = _wind(rng, seconds)
    return _hits(rng, n, times, chirp) + 0.1 * wind / (np.std(wind) or 1)


SYNTHETIC: dict[str, tuple[str, Callable[[np.random.Generator, float], np.ndarray]]] = {
    "white noise": ("noise", lambda r, s: r.standard_normal(len(_t(s)))),
    "pink noise": ("noise", lambda r, s: coloured_noise(r, len(_t(s)), 1)),
    "brown noise": ("noise", lambda r, s: coloured_noise(r, len(_t(s)), 2)),
    "hum": ("noise", _hum),
    "room tone": ("noise", _room_tone),
    "applause": ("noise", lambda r, s: _bursts(r, s, rate=30, decay_s=0.01)),
    "wind": ("noise", _wind),
    "rain": ("noise", _rain),
    "knocks": ("noise", lambda r, s: _bursts(r, s, rate=2, decay_s=0.03)),
    "metronome": ("noise", _clicks),
    "tone": ("tone", _tone),
    "beeps": ("tone", _beeps),
    "sweep": ("tone", _sweep),
    "silence": ("silence", _silence_like),
    "dishes": ("noise", _dishes),
    "typing": ("noise", _typing),
    "footsteps": ("noise", _footsteps),
    "engine": ("noise", _engine),
    "animal calls": ("noise", _animal),
    "birdsong": ("noise", _birdsong),
}
