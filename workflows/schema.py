"""Frozen dataclasses that app.yaml's validation reads as it reads its pydantic models.

The checker's settings and the business hours are plain dataclasses so that `postgate check`,
one process per draft, never imports pydantic (a third of its start-up). bot/config.py still
validates them inside AppConfig: such a class returns :func:`model_schema` from its
``__get_pydantic_core_schema__``, and pydantic then checks the same fields, constraints and
rules as a ``BaseModel`` with ``frozen=True, extra="forbid"`` of the same name would (the same
error types, messages and key paths), builds the dataclass, and dumps it as that model.

A field's ``metadata`` holds what ``pydantic.Field`` takes besides the default (``description``,
``ge``, ``le``, ...). A rule the class enforces itself raises :class:`Invalid`, which pydantic
reports as ``PydanticCustomError(kind, template, params)``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class Invalid(ValueError):
    """A value a settings dataclass refuses; ``kind`` is the error type app.yaml's check reports."""

    def __init__(self, kind: str, template: str, **params: Any) -> None:
        self.kind = kind
        self.template = template
        self.params = params
        super().__init__(template.format(**params))


def model_schema(
    cls: type[Any],
    handler: Any,
    *,
    field_checks: Mapping[str, Callable[[Any], Any]] | None = None,
    model_check: Callable[[Any], None] | None = None,
) -> Any:
    """The pydantic core schema of dataclass ``cls`` (call from ``__get_pydantic_core_schema__``).

    ``field_checks`` run on a field's validated value (they return it, or raise Invalid);
    ``model_check`` runs on the whole once every field is valid.
    """
    from pydantic_core import core_schema  # noqa: PLC0415 - pydantic only where app.yaml is read

    model = _model(cls, dict(field_checks or {}), model_check)
    inner = handler.generate_schema(model)
    names = [f.name for f in dataclasses.fields(cls)]

    def to_dataclass(validated: Any) -> Any:
        return cls(**{name: getattr(validated, name) for name in names})

    def to_model(value: Any) -> Any:
        return model.model_construct(**{name: getattr(value, name) for name in names})

    return core_schema.no_info_after_validator_function(
        to_dataclass,
        inner,
        serialization=core_schema.plain_serializer_function_ser_schema(
            to_model, return_schema=inner
        ),
    )


def validated(cls: type[T], raw: Any) -> T:
    """``raw`` (parsed YAML, JSON) as a ``cls`` the way app.yaml's check builds it; raises
    pydantic's ValidationError (a ValueError) naming each problem."""
    from pydantic import TypeAdapter  # noqa: PLC0415 - only where data files are read

    return TypeAdapter(cls).validate_python(raw)


_MODELS: dict[type[Any], Any] = {}


def _model(
    cls: type[Any],
    field_checks: dict[str, Callable[[Any], Any]],
    model_check: Callable[[Any], None] | None,
) -> Any:
    if cls in _MODELS:
        return _MODELS[cls]
    from pydantic import (  # noqa: PLC0415
        ConfigDict,
        Field,
        create_model,
        field_validator,
        model_validator,
    )
    from pydantic_core import PydanticCustomError  # noqa: PLC0415

    def reported(check: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
        def run(_owner: Any, value: Any) -> Any:
            try:
                return check(value)
            except Invalid as exc:
                raise PydanticCustomError(exc.kind, exc.template, exc.params) from None

        return run

    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            spec = Field(default_factory=f.default_factory, **f.metadata)
        else:
            spec = Field(default=f.default, **f.metadata)
        fields[f.name] = (hints[f.name], spec)
    validators: dict[str, Any] = {}
    for name, check in field_checks.items():
        validators[f"check_{name}"] = field_validator(name)(classmethod(reported(check)))
    if model_check is not None:
        whole = reported(model_check)

        def check_whole(self: Any) -> Any:
            whole(None, self)
            return self

        validators["check_whole"] = model_validator(mode="after")(check_whole)
    model = create_model(
        cls.__name__,
        __config__=ConfigDict(frozen=True, extra="forbid"),
        __doc__=cls.__doc__,
        __module__=cls.__module__,
        __validators__=validators,
        **fields,
    )
    _MODELS[cls] = model
    return model
