"""The Training section of a generator's model card: the recipe, where the run started, and
the commands that rebuild it."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from gan.card_gate import stored_rule
from gan.config import GateRule, TrainConfig, augment_names, setting_changes, training_options


def reproduce_lines(meta: dict[str, Any]) -> list[str]:
    """The commands that rebuild this bundle: training (its settings spelled out from the
    stored config; first the run it started from, if any), the snapshot pick when one chose
    the step, the gate when one chose its recordings, and the evaluation."""
    training = meta.get("training", {})
    options = training_options(TrainConfig.from_dict(training.get("config", {})))
    folder = f"assets/{meta['name']}"
    command = training.get("command") or ""
    words = shlex.split(command)
    source = training.get("started_from")
    lines, start = _source_lines(source) if source else ([], [])
    if meta.get("selection") and "--run" in words:
        run = words[words.index("--run") + 1]
        lines += [_train_command(["--run", run, *start, *options]), command]
    else:
        lines.append(_train_command([*start, *options, "--export", folder]))
    if rule := stored_rule(meta):  # gan.gate: which recordings it plays, chosen after the pick
        extra = [] if rule.clips_per_genre == GateRule.clips_per_genre else [
            "--per-genre", str(rule.clips_per_genre)]  # fmt: skip
        lines.append(shlex.join(["python", "-m", "gan", "gate", "--bundle", folder, *extra,
                                 "--write"]))  # fmt: skip
    return [*lines, f"python -m gan evaluate --bundle {folder} --write"]


def _source_lines(source: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The commands that rebuild the run a run started from (that run's own start first), and
    the ``--start-from`` words that follow them. A bundle's are the commands its card gave
    when the run started from it (none for runs started before those were recorded)."""
    if source.get("bundle"):
        return [str(c) for c in source.get("commands", [])], ["--start-from", source["run"]]
    earlier = source.get("started_from")
    lines, start = _source_lines(earlier) if earlier else ([], [])
    before = TrainConfig.from_dict({**source.get("config", {}), "steps": source["step"]})
    lines.append(_train_command(["--run", source["run"], *start, *training_options(before)]))
    return lines, ["--start-from", source["run"]]


def _train_command(options: list[str]) -> str:
    return shlex.join(["nice", "-n", "10", "python", "-m", "gan", "train", *options])


def widening_words(before: Sequence[int], after: Sequence[int]) -> str:
    """How the CLI and the card name a widening: 'from channels 256 128 ... to 256 192 ...'."""
    return f"from channels {' '.join(map(str, before))} to {' '.join(map(str, after))}"


def start_lines(training: dict[str, Any], subject: str = "Started") -> list[str]:
    """Where a run started from another run's checkpoint or a bundle (``--start-from``), what
    changed, and where that run had started, if it had."""
    source = training.get("started_from")
    if not source:
        return []
    before = TrainConfig.from_dict(source.get("config", {}))
    after = TrainConfig.from_dict(training.get("config", {}))
    changed = setting_changes(before, after)
    changes = "; ".join(f"{flag} {old} → {new}" for flag, old, new in changed)
    if source.get("bundle"):
        critic = source.get("critic")
        discriminator = "its critic as the discriminator" if critic else "a new discriminator"
        where = (
            f"the generator bundle in `{source['run']}` at its step {source['step']} "
            f"(`--start-from`: its generator's weights, with {discriminator} and new optimisers; "
            + ("the commands that made it open the reproduce block below)"
               if source.get("commands") else "that bundle's model card tells how it was made)")
        )  # fmt: skip
    else:
        where = (
            f"step {source['step']} of the run in `{source['run']}` "
            "(`--start-from`: its weights and optimiser state)"
        )
    if source.get("grown_to_recordings"):  # gan.recordings: the weights changed shape
        where += ("; grown to one class per recording, each recording's rows copied from its "
                  "genre's, beside a new discriminator and new optimisers")  # fmt: skip
    if widened := source.get("widened_from"):  # gan.widen: the generator changed shape
        change = widening_words(widened, after.model.g_channels)
        where += (f"; its generator widened {change}, each new channel a copy of an old one "
                  "so it drew about what it drew, with a new generator optimiser")  # fmt: skip
    if source.get("noise_into_every"):  # gan.noise_layers: new maps from the noise
        where += ("; the noise let into every layer of its generator (new maps from the noise "
                  "to each layer's gain and bias, at zero, so it drew what it drew)")  # fmt: skip
    lines = [
        f"- {subject} from {where}, with other settings from then on: {changes or 'none'}. "
        "Those first steps are in the training log too."
    ]
    if source.get("started_from"):
        earlier = {"started_from": source["started_from"], "config": source["config"]}
        lines += start_lines(earlier, subject="That run started")
    return lines


def threads_words(training: dict[str, Any]) -> str:
    threads = training.get("threads")
    words = f"{threads} thread{'' if threads == 1 else 's'}"
    # Where the machine was busy with other work, the bundle says so (times are not comparable).
    return f"{words}, {training['machine']}" if training.get("machine") else words


def recipe_lines(training: dict[str, Any]) -> list[str]:
    """The limited-data recipe, when the run used it (gan.augment, the R1 penalty), and what
    changed where it started from another run."""
    config = training.get("config", {})
    augment = augment_names(str(config.get("augment", "")))
    lines = []
    if augment:
        lines.append(
            f"- DiffAugment ({', '.join(augment)}): every patch the discriminator sees, real or "
            "generated, is randomly transformed the same way, so it cannot memorise 100 clips."
        )
    if config.get("mode_seeking"):
        lines.append(
            f"- Mode-seeking term, weight {config['mode_seeking']}: two noises of one genre are "
            "rewarded for giving different patches, so a genre is not one repeated sound"
            + (
                f" (each pair's reward capped at a distance of {config['mode_seeking_cap']}, "
                "about as far apart as real patches of a genre, so silence against sound earns "
                "nothing extra)."
                if config.get("mode_seeking_cap")
                else "."
            )
        )
    if config.get("d_level") == "genre":
        lines.append(
            "- Realness judged by genre: the discriminator asks whether a patch is a real patch "
            "of its genre, while its genre head still names the recording it was drawn for, so "
            "each patch must pass for its genre and still be recognisable as its recording."
        )
    if config.get("negatives"):
        lines.append(
            f"- Negative examples, weight {config['negatives']}: real patches played backwards "
            "or with their 16-frame blocks shuffled are shown to the discriminator as fake, so it "
            "judges the order of events and not only each genre's average sound."
        )
    if config.get("spectral_negatives"):
        lines.append(
            f"- Spectral negative examples, weight {config['spectral_negatives']}: real patches "
            "blurred over 3 mel bins, with that fine detail replaced by noise of the same size, or "
            "with it frozen (its average held in every frame) are shown to the discriminator as "
            "fake, so it asks for the changing partials of instruments and voices."
        )
    if config.get("local_weight"):
        lines.append(
            f"- Local judging, weight {config['local_weight']}: a second discriminator head "
            "judges every cell of about half a second and half an octave on its own (real or "
            "generated, and which genre), so each part of a patch must look real, not only "
            "its overall sound."
        )
    if config.get("musicnn_weight"):
        lines.append(
            f"- A musicnn discriminator, weight {config['musicnn_weight']}: each generated "
            "patch is turned into sound and heard by the frozen musicnn tagger (pretrained on "
            "the Million Song Dataset); a small trained head on its features tells it from real "
            "patches heard the same way. The default classifier listens through the same "
            "backbone, so its figures may flatter this generator: the measures without musicnn "
            "(the gtzan-cnn-baseline classifier's, and the cepstral distance) are the check."
            + (
                " Its head judges each patch against real patches of its genre, while the "
                "main discriminator learns every recording."
                if config.get("musicnn_d_level") == "genre"
                else ""
            )
        )
    if config.get("musicnn_diversity"):
        lines.append(
            f"- A spread term, weight {config['musicnn_diversity']}: two patches of one genre "
            "drawn from different noise are asked to lie as far apart in musicnn's features as "
            "two real patches of that genre do on average (and no further), so a genre is not "
            "one sound. Only pairs of two audible patches count."
        )
    if config.get("musicnn_mmd"):
        lines.append(
            f"- A distribution term, weight {config['musicnn_mmd']}: each step, a genre's "
            "generated patches are compared with 64 of its real ones in musicnn's features "
            "(maximum mean discrepancy), which draws each patch towards real music of its genre "
            "and the genre's patches apart only where real ones lie, so a genre is not one sound "
            "and does not borrow another's."
        )
    if config.get("level_guard"):
        lines.append(
            f"- A level guard, weight {config['level_guard']}: a generated patch quieter than "
            "the quietest real patch of its genre pays for every 10 dB it is short, so near "
            "silence is no longer an answer to some noises."
        )
    if config.get("pair_weight"):
        lines.append(
            f"- A pair discriminator, weight {config['pair_weight']}: two patches of one genre "
            "are judged together, two real clips against two noises, so the generator's "
            "patches of a genre must differ from each other as real ones do."
        )
    if config.get("r1_gamma"):
        lines.append(
            f"- R1 penalty on real patches, weight {config['r1_gamma']}, every "
            f"{config.get('r1_every')} steps."
        )
    return [*lines, *start_lines(training)]
