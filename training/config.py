"""Training configs as dataclasses, filled from defaults, then a YAML file, then command-line flags.

Every field of a config dataclass is a flag (``lora_r`` -> ``--lora-r``) and a YAML
key (``lora_r``). Values are checked and converted to the field's type here, so a
typo or a wrong type is reported with the name of the field before any model loads.
"""

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from lib.errors import TwinsiteError

C = TypeVar("C")


class ConfigError(TwinsiteError, ValueError):
    """A training config that cannot be used: the message names the field."""


def config_from_mapping(cls: type[C], values: dict[str, Any]) -> C:
    """An instance of the dataclass cls from a plain mapping, each value checked against its field's type."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"Unknown setting {unknown[0]!r}; the settings are: {', '.join(fields)}.")
    hints = typing.get_type_hints(cls)
    converted = {name: _convert(name, value, hints[name]) for name, value in values.items()}
    missing = [
        name
        for name, f in fields.items()
        if name not in converted and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"The setting {missing[0]!r} is required (flag --{missing[0].replace('_', '-')}).")
    return cls(**converted)


def config_from_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"The config file {path} cannot be read: {exc.strerror}.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"The config file {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"The config file {path} must hold a mapping of setting: value.")
    return loaded


def config_parser(cls: type, *, description: str, aliases: dict[str, list[str]]) -> argparse.ArgumentParser:
    """A parser with --config plus one flag per field; every flag defaults to 'not given' so YAML can fill it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, help="a YAML file of settings; flags given here override it")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flags = [f"--{f.name.replace('_', '-')}", *aliases.get(f.name, [])]
        default = "required" if f.default is dataclasses.MISSING else f"default {f.default!r}"
        # A bare boolean flag (--packing) means true; --packing false turns it off.
        extra: dict[str, Any] = {"nargs": "?", "const": "true"} if hints[f.name] is bool else {}
        parser.add_argument(*flags, dest=f.name, default=argparse.SUPPRESS, metavar="VALUE", help=default, **extra)
    return parser


def config_from_args(cls: type[C], argv: list[str] | None, *, description: str, aliases: dict[str, list[str]]) -> C:
    """Defaults, then the --config YAML, then the flags: the config a command line asks for."""
    args = vars(config_parser(cls, description=description, aliases=aliases).parse_args(argv))
    yaml_path = args.pop("config", None)
    values = config_from_yaml(yaml_path) if yaml_path else {}
    values.update(args)
    return config_from_mapping(cls, values)


def config_to_dict(config: Any) -> dict[str, Any]:
    """The config as JSON-serialisable values (paths as strings)."""
    return {key: str(value) if isinstance(value, Path) else value for key, value in dataclasses.asdict(config).items()}


def _convert(name: str, value: Any, hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = [h for h in typing.get_args(hint) if h is not type(None)]
        optional = len(options) < len(typing.get_args(hint))
        if optional and (value is None or (isinstance(value, str) and value.lower() in ("none", "null", ""))):
            return None
        hint = options[0]
    try:
        if hint is bool:
            return _to_bool(value)
        if hint is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if hint is float:
            return float(value)
        if hint is Path:
            return Path(value).expanduser()
        if hint is str:
            return "" if value is None else str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"The setting {name!r} must be {hint.__name__}, not {value!r}.") from None
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)
