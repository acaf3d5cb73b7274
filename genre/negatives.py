"""Sounds that are not music, for fitting and testing the music detector (16 kHz mono float32).

Families: speech from Debian's ``espeak-ng`` (several languages and voices), the real spoken
digits and room-noise recordings in ``../shared/data/extra/notmusic``, and numpy-made noises,
everyday sounds, tones and silence-like recordings (made in :mod:`genre.negatives_synth`).

Every clip names its ``kind`` (a not-music class of ``genre.music_detector.CLASSES``), its
``family`` and a ``group`` (the source it came from): cross-validation keeps a group on one
side, and whole families can be held out of fitting to test on sounds of a kind the detector
never saw.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from audio import resample
from genre.errors import GenreError
from genre.negatives_synth import SAMPLE_RATE, SYNTHETIC, peak_at
from genre.paths import shared_extra_dir

EXTRA_NOTMUSIC = shared_extra_dir() / "notmusic"


# Short texts per espeak-ng voice; plain sentences, several per language.
TEXTS = {
    "en": (
        "Good evening everyone, and welcome to the show. Tonight we talk about the weather, the "
        "news from the city council, and what to cook when the fridge is almost empty. "
        "Please remember to switch off your phones before the next part begins."
    ),
    "de": (
        "Guten Abend und herzlich willkommen. Heute sprechen wir über das Wetter, über den Verkehr "
        "in der Stadt und darüber, was man kochen kann, wenn der Kühlschrank fast leer ist."
    ),
    "fr": (
        "Bonsoir à tous et bienvenue. Ce soir nous parlons de la météo, des nouvelles de la "
        "mairie, et de ce que l'on peut cuisiner quand le frigo est presque vide."
    ),
    "it": (
        "Buonasera a tutti e benvenuti. Stasera parliamo del tempo, delle notizie del comune e "
        "di cosa cucinare quando il frigorifero è quasi vuoto."
    ),
    "pt": (
        "Boa noite a todos e bem-vindos. Hoje falamos do tempo, das notícias da câmara municipal "
        "e do que cozinhar quando o frigorífico está quase vazio."
    ),
    "hi": (
        "नमस्ते और आपका स्वागत है। आज हम मौसम के बारे में बात करेंगे, शहर की खबरों के बारे में, "
        "और जब फ्रिज लगभग खाली हो तब क्या पकाया जाए।"
    ),
    "es": (
        "Buenas noches a todos y bienvenidos. Esta noche hablamos del tiempo, de las noticias del "
        "ayuntamiento y de qué cocinar cuando la nevera está casi vacía."
    ),
    "nl": (
        "Goedenavond allemaal en welkom. Vanavond praten we over het weer, het nieuws van de "
        "gemeente en wat je kunt koken als de koelkast bijna leeg is."
    ),
    "pl": (
        "Dobry wieczór wszystkim i witamy. Dziś rozmawiamy o pogodzie, o wiadomościach z miasta "
        "i o tym, co ugotować, gdy lodówka jest prawie pusta."
    ),
}
VOICES = {  # espeak-ng voice names
    "en": ("en-us", "en-gb", "en-gb-scotland"),
    "de": ("de",),
    "fr": ("fr-fr",),
    "it": ("it",),
    "pt": ("pt-br", "pt"),
    "hi": ("hi",),
    "es": ("es", "es-419"),
    "nl": ("nl",),
    "pl": ("pl",),
}
VARIANTS = ("", "+f3", "+m3", "+f5", "+klatt", "+whisper")


@dataclass(frozen=True)
class NotMusic:
    samples: np.ndarray  # float32 mono at SAMPLE_RATE
    kind: str  # one of KINDS
    family: str  # e.g. "speech-espeak", "pink noise"
    group: str  # the source: clips of one group stay on one side of a CV split


def synthetic(family: str, seed: int, seconds: float = 15.0) -> NotMusic:
    kind, make = SYNTHETIC[family]
    rng = np.random.default_rng(seed)
    x = make(rng, seconds)
    if kind != "silence":
        x = peak_at(x, rng.uniform(-30, -3))
    return NotMusic(np.asarray(x, np.float32), kind, family, f"{family}:{seed}")


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak(language: str, voice: str, variant: str = "", speed: int = 160) -> NotMusic:
    """A spoken paragraph from espeak-ng (Debian package ``espeak-ng``)."""
    if not espeak_available():
        raise GenreError("espeak-ng is not installed (Debian: apt-get install espeak-ng).")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        cmd = ["espeak-ng", "-v", voice + variant, "-s", str(speed), "-w", str(wav)]
        subprocess.run([*cmd, TEXTS[language]], check=True, capture_output=True, timeout=60)
        x, sr = sf.read(wav, dtype="float32", always_2d=True)
    x = resample(x.mean(axis=1), sr, SAMPLE_RATE)
    return NotMusic(peak_at(x, -3), "speech", "speech-espeak", f"espeak:{language}")


def espeak_clips(languages: tuple[str, ...], seed: int = 0) -> Iterator[NotMusic]:
    """Every voice of ``languages`` with two variants and speeds each."""
    rng = np.random.default_rng(seed)
    for language in languages:
        for voice in VOICES[language]:
            for variant in rng.choice(VARIANTS, 2, replace=False):
                yield espeak(language, voice, str(variant), int(rng.integers(120, 200)))


def spoken_digits(speaker: str, seed: int, folder: Path = EXTRA_NOTMUSIC) -> NotMusic:
    """About 15 s of one speaker's digits, joined with short pauses (real recordings, 8 kHz)."""
    rng = np.random.default_rng(seed)
    files = sorted((folder / "speech_digits").glob(f"*_{speaker}_*.wav"))
    if not files:
        raise GenreError(f"no spoken digits of {speaker!r} under {folder}")
    parts, total = [], 0
    while total < 15 * SAMPLE_RATE:
        x, sr = sf.read(files[int(rng.integers(len(files)))], dtype="float32", always_2d=True)
        x = resample(x.mean(axis=1), sr, SAMPLE_RATE)
        pause = np.zeros(int(rng.uniform(0.1, 0.6) * SAMPLE_RATE), np.float32)
        parts += [x, pause]
        total += len(x) + len(pause)
    return NotMusic(
        peak_at(np.concatenate(parts), -6), "speech", "speech-digits", f"digits:{speaker}"
    )


def room_noise(name: str, folder: Path = EXTRA_NOTMUSIC, seconds: float = 15.0) -> list[NotMusic]:
    """A real room recording cut into ``seconds`` pieces (all one group)."""
    x, sr = sf.read(folder / "room_noise" / f"{name}.wav", dtype="float32", always_2d=True)
    x = resample(x.mean(axis=1), sr, SAMPLE_RATE)
    n = int(seconds * SAMPLE_RATE)
    return [
        NotMusic(x[i : i + n], "noise", "room-noise", f"room:{name}")
        for i in range(0, len(x) - n + 1, n)
    ]


def speakers(folder: Path = EXTRA_NOTMUSIC) -> list[str]:
    return sorted({p.stem.split("_")[1] for p in (folder / "speech_digits").glob("*.wav")})


def rooms(folder: Path = EXTRA_NOTMUSIC) -> list[str]:
    return sorted(p.stem for p in (folder / "room_noise").glob("*.wav"))
