"""Which files are audio: by extension and by their first bytes, and the two lists agree.

Every container named here by its magic number has its extensions in :data:`AUDIO_EXTENSIONS`
and the other way round, so a folder scan picks a file whether it is judged by name or content
(an ``.mp4`` with a sound track is audio; so is a WAV saved without an extension).
"""

from __future__ import annotations

SNIFF_BYTES = 64  # enough for every signature below

# Containers libsndfile reads: a failure on these means the file is damaged.
SOUNDFILE_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "WAV"),
    (0, b"RIFX", "WAV"),
    (0, b"RF64", "WAV"),
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "OGG"),
    (0, b".snd", "AU"),
    (0, b"FORM", "AIFF"),
    (0, b"ID3", "MP3"),
    (0, b"\xff\xfb", "MP3"),
    (0, b"\xff\xf3", "MP3"),
    (0, b"\xff\xf2", "MP3"),
)
# Containers libsndfile cannot open but ffmpeg can, to tell "unsupported format" apart from
# "not audio at all".
FFMPEG_ONLY_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "MP4/M4A/AAC"),
    (0, b"\x1a\x45\xdf\xa3", "WebM/Matroska"),
    (0, b"\x30\x26\xb2\x75", "WMA/ASF"),
    (0, b"\xff\xf1", "AAC (ADTS)"),
    (0, b"\xff\xf9", "AAC (ADTS)"),
    (0, b"#!AMR", "AMR"),
    (0, b"MAC ", "Monkey's Audio"),
    (0, b"wvpk", "WavPack"),
)
# Same magic, not sound: RIFF also holds AVI and WebP, FORM other IFF data, and ISO media
# (``ftyp``) also holds HEIC/AVIF photos. ``strict`` sniffing (picking files in a folder) wants
# the audio form type; the decoder only rules out the known others, so a WAV whose header is
# damaged is still reported as a damaged WAV.
_RIFF_AUDIO = (b"WAVE",)
_RIFF_OTHER = (b"AVI ", b"WEBP")
_FORM_AUDIO = (b"AIFF", b"AIFC")
_IMAGE_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis", b"crx ")

SOUNDFILE_EXTENSIONS = frozenset({".wav", ".au", ".snd", ".flac", ".ogg", ".oga", ".mp3", ".aif",
                                  ".aiff", ".aifc"})  # fmt: skip
# What ffmpeg decodes, video containers included: their sound track is analysed.
FFMPEG_EXTENSIONS = frozenset({".m4a", ".m4b", ".mp4", ".m4v", ".mov", ".3gp", ".aac", ".webm",
                               ".mkv", ".mka", ".wma", ".asf", ".wmv", ".amr", ".ape", ".wv",
                               ".opus"})  # fmt: skip
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS | FFMPEG_EXTENSIONS


def _other_content(magic: bytes, form: bytes, strict: bool) -> bool:
    """Does the form type after a shared magic number say this is not audio?"""
    if magic in (b"RIFF", b"RIFX"):
        return form not in _RIFF_AUDIO if strict else form in _RIFF_OTHER
    if magic == b"FORM":
        return strict and form not in _FORM_AUDIO
    return magic == b"ftyp" and form in _IMAGE_BRANDS


def sniff(
    head: bytes, table: tuple[tuple[int, bytes, str], ...], *, strict: bool = False
) -> str | None:
    """The container in ``table`` whose magic starts ``head``, or None."""
    for offset, magic, name in table:
        if head[offset : offset + len(magic)] == magic and not _other_content(
            magic, head[8:12], strict
        ):
            return name
    return None


def sniff_format(head: bytes) -> str | None:
    """The audio container named by a file's first bytes (:data:`SNIFF_BYTES`), or None.

    Strict: a RIFF or FORM file counts only with an audio form type (WAVE, AIFF).
    """
    return sniff(head, SOUNDFILE_MAGIC, strict=True) or sniff(head, FFMPEG_ONLY_MAGIC, strict=True)
