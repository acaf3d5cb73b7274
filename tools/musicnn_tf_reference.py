"""Runs ONLY inside the throwaway TensorFlow venv (never imported by the app or the tests).

Sub-commands (called by ``tools/convert_musicnn.py`` and ``bench/bench_musicnn.py``):

* ``variables CKPT_DIR OUT.npz`` — every model variable of a musicnn checkpoint (optimizer slots
  dropped), read with TensorFlow's own checkpoint reader;
* ``reference CKPT_DIR WAVES.npz OUT.npz`` — the original graph (imported from the checkpoint's
  ``.meta`` and restored) on 16-kHz waveforms: taggram, penultimate, mean/max pool per patch;
* ``bench CKPT_DIR WAVES.npz OUT.json [AUDIO...]`` — warm latency of the original graph per clip,
  and, given the audio files, of the wheel's own way from file to tags (``librosa.load`` at
  16 kHz, log-mel, one patch per ``sess.run``).

The front-end is musicnn's (librosa mel, ``log10(1 + 10000·x)``) but kept in float32: the wheel
casts to float16 first, which overflows to ``inf`` on ordinary music under NumPy 2.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import librosa
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2

SR, N_FFT, HOP, N_MELS, PATCH = 16000, 512, 256, 96, 187
OUTPUTS = {
    "taggram": "model/Sigmoid:0",
    "penultimate": "model/batch_normalization_10/batchnorm/add_1:0",
    "max_pool": "model/Max:0",
    "mean_pool": "model/moments/Squeeze:0",
}


def prefix(ckpt_dir: str) -> str:
    # The wheel's checkpoint files have an empty base name (".index", ".data-…"): the prefix is
    # the folder itself with a trailing slash.
    return os.path.join(ckpt_dir, "")


def dump_variables(ckpt_dir: str, out: str) -> None:
    reader = tf.compat.v1.train.NewCheckpointReader(prefix(ckpt_dir))
    names = [
        n
        for n in reader.get_variable_to_shape_map()
        if "Adam" not in n and n not in ("beta1_power", "beta2_power")
    ]
    np.savez(out, **{n: reader.get_tensor(n) for n in sorted(names)})


def log_mel_patches(wave: np.ndarray) -> np.ndarray:
    """[patches, 187, 96] float32, non-overlapping, as musicnn's ``batch_data``."""
    mel = librosa.feature.melspectrogram(
        y=wave.astype(np.float32), sr=SR, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS
    ).T
    rep = np.log10(10000.0 * mel.astype(np.float32) + 1.0)  # float32, not float16
    starts = range(0, rep.shape[0] - PATCH + 1, PATCH)
    return np.stack([rep[s : s + PATCH] for s in starts]).astype(np.float32)


def load_graph(ckpt_dir: str) -> tuple[tf.compat.v1.Session, tf.Graph]:
    """Import the ``.meta`` graph, pruned to inference + restore ops, and restore the weights.

    The full graph's gradient nodes carry shape annotations that current TensorFlow rejects;
    pruning to what the outputs and the saver need leaves the original inference graph intact.
    """
    meta = meta_graph_pb2.MetaGraphDef()
    with open(os.path.join(ckpt_dir, ".meta"), "rb") as f:
        meta.ParseFromString(f.read())
    for node in meta.graph_def.node:
        node.attr.pop("_output_shapes", None)
    restore_op = meta.saver_def.restore_op_name.split(":")[0]
    keep = [t.split(":")[0] for t in OUTPUTS.values()] + [restore_op]
    graph_def = tf.compat.v1.graph_util.extract_sub_graph(meta.graph_def, keep)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    sess = tf.compat.v1.Session(graph=graph)
    sess.run(restore_op, {meta.saver_def.filename_tensor_name: prefix(ckpt_dir)})
    return sess, graph


def run_graph(sess: tf.compat.v1.Session, patches: np.ndarray) -> dict[str, np.ndarray]:
    feed = {"model/Placeholder:0": patches, "model/Placeholder_2:0": False}
    values = sess.run(list(OUTPUTS.values()), feed)
    out = dict(zip(OUTPUTS, values, strict=True))
    out["max_pool"] = out["max_pool"][..., 0]
    out["mean_pool"] = out["mean_pool"][..., 0]
    return out


def reference(ckpt_dir: str, waves_path: str, out: str) -> None:
    waves = np.load(waves_path)
    sess, _ = load_graph(ckpt_dir)
    result: dict[str, np.ndarray] = {}
    for name in sorted(waves.files):
        patches = log_mel_patches(waves[name])
        for key, value in run_graph(sess, patches).items():
            result[f"{name}/{key}"] = value.astype(np.float32)
        # The wheel's float16 pitfall, measured on the same clip: how many log-mel values overflow.
        mel16 = librosa.feature.melspectrogram(
            y=waves[name], sr=SR, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS
        ).astype(np.float16)
        with np.errstate(over="ignore"):
            inf_share = float(np.mean(~np.isfinite(np.log10(10000 * mel16 + 1))))
        result[f"{name}/float16_inf_share"] = np.float32(inf_share)
    np.savez_compressed(out, **result)


def bench(ckpt_dir: str, waves_path: str, out: str, *files: str, repeats: int = 20) -> None:
    """Warm latency: front-end + graph per 30-s clip, both as the wheel runs it (one patch per
    ``sess.run``) and batched (all patches in one call); with ``files``, also file → tags as the
    wheel's ``extractor`` does it (decoding and resampling with librosa included)."""
    waves = np.load(waves_path)
    sess, _ = load_graph(ckpt_dir)
    clips = [waves[n] for n in sorted(waves.files)]
    rows: dict[str, list[float]] = {"batched": [], "per_patch": [], "graph_only_batched": []}
    for wave in clips[:1]:  # warm-up
        patches = log_mel_patches(wave)
        run_graph(sess, patches)
        run_graph(sess, patches[:1])
    for i in range(repeats):
        wave = clips[i % len(clips)]
        t0 = time.perf_counter()
        patches = log_mel_patches(wave)
        t1 = time.perf_counter()
        run_graph(sess, patches)
        t2 = time.perf_counter()
        rows["batched"].append(t2 - t0)
        rows["graph_only_batched"].append(t2 - t1)
        t3 = time.perf_counter()
        patches = log_mel_patches(wave)
        for p in range(len(patches)):
            run_graph(sess, patches[p : p + 1])
        rows["per_patch"].append(time.perf_counter() - t3)
    if files:
        rows["wheel_end_to_end"] = []
        librosa.load(files[0], sr=SR)  # warm-up: librosa's lazy imports and resampler
        for i in range(repeats):
            t0 = time.perf_counter()
            wave, _ = librosa.load(files[i % len(files)], sr=SR)
            patches = log_mel_patches(wave)
            for p in range(len(patches)):
                run_graph(sess, patches[p : p + 1])
            rows["wheel_end_to_end"].append(time.perf_counter() - t0)
    summary = {k: {"median_ms": 1000 * float(np.median(v)), "n": len(v)} for k, v in rows.items()}
    summary["tensorflow"] = tf.__version__
    summary["librosa"] = librosa.__version__
    summary["threads"] = {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)


def main(argv: list[str]) -> int:
    tf.compat.v1.disable_eager_execution()
    command, *args = argv
    {"variables": dump_variables, "reference": reference, "bench": bench}[command](*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
