"""Errors shared by every layer: lib, training and the apps."""


class TwinsiteError(Exception):
    """A domain error: the message is fit to show to the person who caused it."""


class ConfigurationError(TwinsiteError):
    """The service cannot start as configured (a bad setting, an unreachable backend)."""


class ModelUnavailable(TwinsiteError):
    """A model cannot be found or loaded: a missing package, file or directory, or a failed conversion."""
