"""Errors shared by every layer: lib, training and the apps."""


class TwinsiteError(Exception):
    """A domain error: the message is fit to show to the person who caused it."""


class ConfigurationError(TwinsiteError):
    """The service cannot start as configured (a bad setting, an unreachable backend)."""


class ModelUnavailable(TwinsiteError):
    """A model cannot be found or loaded: a missing package, file or directory, or a failed conversion."""


class InvalidInput(TwinsiteError):
    """A value a service was given cannot be used. `field` names it in the domain's words (base, dataset, model):
    the command line phrases it as its flag, the admin as its label; the message reads whole without it."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field
