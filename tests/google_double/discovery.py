"""Strict checks of request bodies and query parameters against Google's discovery documents.

The documents are the ones google-api-python-client ships (`discovery_cache/documents`), so the
double rejects exactly what the published API schema rejects: unknown fields, wrong JSON types,
enum values that do not exist, unknown query parameters. JSON `null` is accepted for any field
and means "not set", as Google's JSON parser does (gspread sends `"description": null`).
Messages follow Google's wording, with snake_case field paths as in the real error bodies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
JSON = dict[str, Any]
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1)}
_TYPE_NAMES = {
    ("string", None): "TYPE_STRING",
    ("integer", "int32"): "TYPE_INT32",
    ("integer", "uint32"): "TYPE_UINT32",
    ("string", "int64"): "TYPE_INT64",
    ("string", "uint64"): "TYPE_UINT64",
    ("number", "double"): "TYPE_DOUBLE",
    ("number", "float"): "TYPE_FLOAT",
    ("boolean", None): "TYPE_BOOL",
}
# Messages whose fields form a oneof in the proto: at most one may be set.
_ONEOFS = {
    "ExtendedValue": ("value", ("numberValue", "stringValue", "boolValue", "formulaValue")),
}


@dataclass(frozen=True)
class Violation:
    field: str
    description: str


@cache
def document(name: str) -> JSON:
    """`sheets.v4` or `drive.v3`, parsed once."""
    data: JSON = json.loads((DOCUMENTS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _join(path: str, name: str) -> str:
    return f"{path}.{snake(name)}" if path else snake(name)


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Validator:
    """Validates one API's bodies (by schema name) and query strings (by method)."""

    def __init__(self, api: str) -> None:
        self.doc = document(api)
        self.schemas: dict[str, JSON] = self.doc["schemas"]
        self.package = {
            "sheets.v4": "google.apps.sheets.v4",
            "drive.v3": "google.apps.drive.v3",
        }.get(api, api)

    # -- bodies ------------------------------------------------------------------------------
    def body(self, schema: str, value: Any, path: str = "") -> list[Violation]:
        found: list[Violation] = []
        self._check({"$ref": schema}, value, path, found, schema)
        return found

    def _check(self, spec: JSON, value: Any, path: str, found: list[Violation], name: str) -> None:
        if value is None:
            return  # JSON null: the field is not set
        if "$ref" in spec:
            self._message(spec["$ref"], value, path, found)
            return
        kind, fmt = spec.get("type"), spec.get("format")
        if kind == "any":
            return
        if kind == "array":
            if not isinstance(value, list):
                found.append(self._bad(path, self._type_name(spec["items"], name), value))
                return
            if spec["items"].get("type") == "any":
                return  # a protobuf ListValue: any JSON values
            for index, item in enumerate(value):
                self._check(spec["items"], item, f"{path}[{index}]", found, name)
            return
        if kind == "object":
            self._map(spec, value, path, found, name)
            return
        if not _scalar_ok(kind, fmt, value):
            found.append(self._bad(path, self._type_name(spec, name), value))
            return
        if "enum" in spec and value not in spec["enum"]:
            found.append(self._bad(path, self._enum_name(name), value))

    def _map(self, spec: JSON, value: Any, path: str, found: list[Violation], name: str) -> None:
        if not isinstance(value, dict):
            found.append(self._bad(path, "type.googleapis.com/google.protobuf.Struct", value))
            return
        values = spec.get("additionalProperties")
        if values is None:
            return
        for key, item in value.items():
            self._check(values, item, f'{path}["{key}"]', found, name)

    def _message(self, ref: str, value: Any, path: str, found: list[Violation]) -> None:
        schema = self.schemas[ref]
        if not isinstance(value, dict):
            found.append(self._bad(path, f"type.googleapis.com/{self.package}.{ref}", value))
            return
        properties: JSON = schema.get("properties", {})
        for key, item in value.items():
            if key not in properties:
                where = f" at '{path}'" if path else ""
                found.append(
                    Violation(
                        path,
                        f'Invalid JSON payload received. Unknown name "{key}"{where}:'
                        " Cannot find field.",
                    )
                )
                continue
            self._check(properties[key], item, _join(path, key), found, f"{ref}.{key}")
        oneof = _ONEOFS.get(ref)
        if oneof is not None:
            group, members = oneof
            set_ = [m for m in members if value.get(m) is not None]
            if len(set_) > 1:
                found.append(
                    Violation(
                        path,
                        f"Invalid JSON payload received. Oneof field '{group}' is already set."
                        f" Cannot set '{set_[1]}'",
                    )
                )

    def _bad(self, path: str, type_name: str, value: Any) -> Violation:
        return Violation(path, f"Invalid value at '{path}' ({type_name}), {_shown(value)}")

    def _type_name(self, spec: JSON, name: str) -> str:
        if "$ref" in spec:
            return f"type.googleapis.com/{self.package}.{spec['$ref']}"
        if spec.get("type") == "array":
            if spec.get("items", {}).get("type") == "any":
                return "type.googleapis.com/google.protobuf.ListValue"
            return self._type_name(spec["items"], name)
        if spec.get("type") == "any":
            return "type.googleapis.com/google.protobuf.Value"
        if "enum" in spec:
            return self._enum_name(name)
        return _TYPE_NAMES.get((spec.get("type", ""), spec.get("format")), "TYPE_STRING")

    def _enum_name(self, name: str) -> str:
        field = name.rsplit(".", 1)[-1]
        return f"type.googleapis.com/{self.package}.{field[:1].upper()}{field[1:]}"

    # -- query strings -----------------------------------------------------------------------
    def method(self, method_id: str) -> JSON:
        """The discovery entry of e.g. `sheets.spreadsheets.values.batchGet`."""
        parts = method_id.split(".")[1:]
        node: JSON = self.doc
        for part in parts[:-1]:
            node = node["resources"][part]
        method: JSON = node["methods"][parts[-1]]
        return method

    def query(
        self, method_id: str, query: dict[str, list[str]], *, lenient: bool = False
    ) -> list[Violation]:
        """Check query parameters; `lenient` ignores unknown names (Drive v3 does)."""
        declared: JSON = {
            **self.doc.get("parameters", {}),
            **{
                k: v
                for k, v in self.method(method_id).get("parameters", {}).items()
                if v.get("location") == "query"
            },
        }
        found: list[Violation] = []
        for name, values in query.items():
            spec = declared.get(name)
            if spec is None:
                if not lenient:
                    found.append(
                        Violation(
                            name,
                            f'Invalid JSON payload received. Unknown name "{name}": Cannot bind'
                            f" query parameter. Field '{name}' could not be found in request"
                            " message.",
                        )
                    )
                continue
            if len(values) > 1 and not spec.get("repeated"):
                found.append(
                    Violation(
                        name,
                        f"Invalid JSON payload received. Cannot bind query parameter '{name}'"
                        " more than once.",
                    )
                )
            for value in values:
                problem = _query_value(spec, value)
                if problem:
                    found.append(
                        Violation(
                            snake(name),
                            f"Invalid value at '{snake(name)}' ({problem}), {_shown(value)}",
                        )
                    )
        return found


def _scalar_ok(kind: str | None, fmt: str | None, value: Any) -> bool:
    if kind == "string":
        if fmt in ("int64", "uint64"):
            return (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None
            )
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            return False
        low, high = _INT_RANGES.get(fmt or "int32", _INT_RANGES["int32"])
        return low <= value <= high
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False


def _query_value(spec: JSON, value: str) -> str | None:
    """What is wrong with one query-string value, as Google names the expected type."""
    kind = spec.get("type")
    if kind == "boolean" and value.lower() not in ("true", "false"):
        return "TYPE_BOOL"
    if kind == "integer" and re.fullmatch(r"-?\d+", value) is None:
        return "TYPE_INT32"
    if "enum" in spec and value not in spec["enum"]:
        return "TYPE_ENUM"
    return None
