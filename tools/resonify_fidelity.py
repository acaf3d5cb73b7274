"""How faithfully :func:`audio.resonify` carries real music to musicnn's front-end.

For one 3-s segment of every other shared GTZAN clip (the odd-numbered ones), the default genre
classifier is asked for the genre twice: on musicnn's own log-mel of the segment, and on the
GAN's log-mel of it sent through ``resonify`` (what the ``--musicnn-d`` discriminator hears).
Prints one JSON object: how often each is right, how often they agree, and the mean cosine
between the two embeddings.

    python tools/resonify_fidelity.py [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio import load_audio, log_mel, resonify
from gan.data import PATCH_SPEC, default_audio_root
from gan.metrics import load_default_classifier
from genre.datasets import discover
from genre.musicnn import MUSICNN_FRONTEND, PATCH_FRAMES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="where in each clip the segment starts")
    args = parser.parse_args()
    torch.set_num_threads(2)
    classifier = load_default_classifier()
    tracks = sorted(discover(default_audio_root()).tracks, key=lambda t: (t.genre, t.number))
    rng = np.random.default_rng(args.seed)
    right_direct = right_resonified = same = 0
    cosines = []
    for track in tracks[1::2]:
        start = rng.uniform(0, 25)
        gan_mel = log_mel(load_audio(track.path, sample_rate=22050).samples, PATCH_SPEC)
        gan_mel = gan_mel[:, int(start * 22050 / 512) :][:, :128]
        direct = log_mel(load_audio(track.path, sample_rate=16000).samples, MUSICNN_FRONTEND)
        direct = direct[:, int(start * 16000 / 256) :][:, :PATCH_FRAMES]
        with torch.no_grad():
            heard = resonify(torch.from_numpy(gan_mel)[None], PATCH_SPEC, MUSICNN_FRONTEND,
                             frames=PATCH_FRAMES)  # fmt: skip
            a = classifier.model(torch.from_numpy(direct)[None])
            b = classifier.model(heard)
        genre_a = classifier.labels[int(a["logits"].argmax())]
        genre_b = classifier.labels[int(b["logits"].argmax())]
        right_direct += genre_a == track.genre
        right_resonified += genre_b == track.genre
        same += genre_a == genre_b
        cosines.append(float(F.cosine_similarity(a["embedding"].flatten(1),
                                                 b["embedding"].flatten(1))))  # fmt: skip
    n = len(cosines)
    print(json.dumps({"segments": n, "right_direct": right_direct,
                      "right_resonified": right_resonified, "same_genre": same,
                      "mean_embedding_cosine": round(float(np.mean(cosines)), 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
