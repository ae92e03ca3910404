"""Errors shared by every app."""


class TwinsiteError(Exception):
    """A domain error: the message is fit to show to the person who caused it."""


class ConfigurationError(TwinsiteError):
    """The service cannot start as configured (a bad setting, an unreachable backend)."""
