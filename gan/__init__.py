"""A genre-conditioned GAN on log-mel spectrograms that you can hear.

``gan.data`` cuts normalised log-mel patches from the shared GTZAN clips, ``gan.model`` holds the
conditional DCGAN, ``gan.train`` trains it, ``gan.sample`` turns generated spectrograms into
audio, ``gan.metrics`` holds the measures of how convincing they are and ``gan.evaluation``
takes them for the model card.
"""

from gan.errors import GanError

__all__ = ["GanError"]
