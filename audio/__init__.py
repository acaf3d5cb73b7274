"""Shared audio utilities: decoding, resampling, mel spectrograms and their inversion."""

from audio.decode import DEFAULT_MAX_MINUTES, MAX_ANALYSIS_MINUTES, MIN_SECONDS, Audio, load_audio
from audio.errors import AudioError
from audio.inversion import griffin_lim, mel_to_audio, mel_to_linear
from audio.resample import resample
from audio.resonify import resonify
from audio.source import MAX_FILE_MB, MAX_FILE_MB_ENV, AudioSource, max_file_mb
from audio.spectrogram import LogMel, MelSpec, log_mel, mel_filterbank

__all__ = [
    "DEFAULT_MAX_MINUTES",
    "MAX_ANALYSIS_MINUTES",
    "MAX_FILE_MB",
    "MAX_FILE_MB_ENV",
    "MIN_SECONDS",
    "Audio",
    "AudioError",
    "AudioSource",
    "LogMel",
    "MelSpec",
    "griffin_lim",
    "load_audio",
    "log_mel",
    "max_file_mb",
    "mel_filterbank",
    "mel_to_audio",
    "mel_to_linear",
    "resample",
    "resonify",
]
