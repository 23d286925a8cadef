"""Option types that say how a config value is read: a path relative to the config file, or a model reference.

A backend or metric marks its path-valued options by type (`ConfigPath`,
`ModelReference`), and `evalkit.config` resolves every option so marked against
the config file's folder, like every other path in a config. Marking by type,
not by a list of option names in the config module, keeps a new backend's paths
working without touching the config code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, get_args, get_origin

from pydantic.fields import FieldInfo


@dataclass(frozen=True)
class RelativeToConfig:
    """A file or folder path, resolved against the config file's folder (`~` expanded)."""


@dataclass(frozen=True)
class LocalOrHub:
    """A local folder when it looks like a path or exists beside the config; otherwise a hub id, kept as given."""


ConfigPath = Annotated[Path, RelativeToConfig()]
ConfigFile = Annotated[str, RelativeToConfig()]
ModelReference = Annotated[str, LocalOrHub()]


def path_role(field: FieldInfo) -> RelativeToConfig | LocalOrHub | None:
    """The marker on a pydantic field, also inside an optional (`ConfigFile | None`), if any."""
    found = list(field.metadata)
    for arg in get_args(field.annotation):
        if get_origin(arg) is Annotated:
            found += arg.__metadata__
    return next((m for m in found if isinstance(m, (RelativeToConfig, LocalOrHub))), None)


def resolve_model(value: str | Path | None, base: Path) -> str | Path | None:
    """A local folder when it looks like a path or exists beside the config; otherwise a hub id."""
    if value is None:
        return None
    text = str(value)
    if text.startswith((".", "/", "~")) or (base / text).exists():
        return (base / Path(text).expanduser()).resolve()
    return text


def resolve_option(role: RelativeToConfig | LocalOrHub | None, value: object, base: Path) -> object:
    if not isinstance(value, str) or role is None:
        return value
    if isinstance(role, RelativeToConfig):
        return str((base / Path(value).expanduser()).resolve())
    resolved = resolve_model(value, base)
    return str(resolved) if isinstance(resolved, Path) else resolved
