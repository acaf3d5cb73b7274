"""``python -m gan morph`` and ``python -m gan prompt``: a morph or a blend as WAV + PNG.

Each prints one JSON object: ``title``, ``wav``, ``png``, ``seconds``, ``seed``, ``mix`` (genre →
share: the first patch's for a morph, the whole clip's for a prompt) and, for ``prompt``,
``understood`` ([word, genre] pairs), ``heard_not_followed`` and ``not_understood`` (words).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from gan import cli_args
from gan.config import MAX_SECONDS
from gan.morph import MIN_MORPH_SECONDS, Rendered


def _write(clip: Rendered, out: Path, seed: int, extra: dict[str, Any]) -> int:
    folder = cli_args.make_folder(out)
    slug = re.sub(r"[^a-z0-9]+", "-", clip.title.lower()).strip("-") or "clip"
    wav, png = folder / f"{slug}-seed{seed}.wav", folder / f"{slug}-seed{seed}.png"
    wav.write_bytes(clip.wav_bytes())
    png.write_bytes(clip.png_bytes())
    mix = {g: round(float(s), 3) for g, s in zip(clip.labels, clip.weights[0], strict=True) if s}
    print(json.dumps({"title": clip.title, "wav": str(wav), "png": str(png),
                      "seconds": round(clip.duration_s, 3), "seed": seed, "mix": mix,
                      **extra}), flush=True)  # fmt: skip
    return 0


def _cmd_morph(args: argparse.Namespace) -> int:
    from gan.bundle import load_gan_bundle
    from gan.morph import morph

    bundle = load_gan_bundle(args.bundle)
    clip = morph(bundle, args.start.lower(), args.end.lower(), args.seconds, args.seed)
    return _write(clip, args.out, args.seed, {})


def _cmd_prompt(args: argparse.Namespace) -> int:
    from gan.bundle import load_gan_bundle
    from gan.morph import blend
    from gan.prompt import read_prompt

    bundle = load_gan_bundle(args.bundle)
    reading = read_prompt(args.text, bundle.labels)
    clip = blend(bundle, reading.mix, args.seconds, args.seed)
    return _write(clip, args.out, args.seed, {
        "understood": reading.genre_words, "heard_not_followed": reading.heard_not_followed,
        "not_understood": reading.not_understood,
    })  # fmt: skip


def _common(p: argparse.ArgumentParser, low: float, default: float) -> None:
    p.add_argument("--seconds", type=cli_args.float_in(low, MAX_SECONDS), default=default,
                   help=f"length ({low:g}–{MAX_SECONDS:g} s)")  # fmt: skip
    p.add_argument("--seed", type=cli_args.seed, default=0, help="same seed → same clip")
    p.add_argument("--out", type=cli_args.output_folder, required=True,
                   help="folder for the WAV and PNG (created if needed)")  # fmt: skip
    p.add_argument("--bundle", type=Path, help="generator bundle (default: the shipped one)")


def configure(sub: argparse._SubParsersAction) -> None:
    morph = sub.add_parser("morph", help="a clip that drifts from one genre into another")
    morph.add_argument("start", help="the genre it starts as")
    morph.add_argument("end", help="the genre it becomes")
    _common(morph, MIN_MORPH_SECONDS, 20.0)
    morph.set_defaults(handler=_cmd_morph)
    prompt = sub.add_parser("prompt", help="a clip from words, e.g. 'jazz with a touch of reggae'")
    prompt.add_argument("text", help="a few words naming genres")
    _common(prompt, 1.0, 10.0)
    prompt.set_defaults(handler=_cmd_prompt)
