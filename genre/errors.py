"""The genre package's exception family; messages are written for the end user."""


class GenreError(Exception):
    """Base class: ``str(err)`` is a complete sentence a user can act on."""


class BundleError(GenreError):
    """A model bundle is missing, incomplete or inconsistent."""


class DatasetError(GenreError):
    """A dataset folder or table cannot be used."""
