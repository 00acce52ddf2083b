"""Partial responses: the `fields` query parameter (`sheets(properties(sheetId,title))`)."""

from __future__ import annotations

from typing import Any

from .discovery import Validator
from .state import invalid

Tree = dict[str, "Tree | None"]  # None: the whole value


def parse(text: str) -> Tree:
    tree, rest = _list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise invalid(f"Invalid field selection: {text}")
    return tree


def _list(text: str, pos: int) -> tuple[Tree, int]:
    tree: Tree = {}
    while pos < len(text):
        name_end = pos
        while name_end < len(text) and text[name_end] not in ",()":
            name_end += 1
        path = text[pos:name_end].replace("/", ".").split(".")
        if not all(path):
            raise invalid(f"Invalid field selection: {text}")
        pos = name_end
        sub: Tree | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise invalid(f"Invalid field selection: {text}")
            pos += 1
        _insert(tree, path, sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        break
    return tree, pos


def _insert(tree: Tree, path: list[str], sub: Tree | None) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        current = tree.get(head, {})
        tree[head] = None if sub is None or current is None else {**current, **sub}
        return
    child = tree.setdefault(head, {})
    if child is not None:
        _insert(child, rest, sub)


def check(tree: Tree, validator: Validator, schema: str) -> None:
    """Unknown field names are an error, as on Google."""
    properties = validator.schemas[schema].get("properties", {})
    for name, sub in tree.items():
        if name not in properties:
            raise invalid(f"Invalid field selection {name}")
        if sub is None:
            continue
        spec = properties[name]
        ref = spec.get("$ref") or spec.get("items", {}).get("$ref")
        if ref is None:
            raise invalid(f"Invalid field selection {name}")
        check(sub, validator, ref)


def select(value: Any, tree: Tree | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [select(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {k: select(v, tree[k]) for k, v in value.items() if k in tree}


def check_mask(paths: list[str], validator: Validator, schema: str, where: str) -> None:
    """A request's `fields` mask names fields of `schema` (dotted paths), or `*`.

    Google refuses a mask naming a field the message does not have, before applying anything.
    """
    for path in paths:
        if path == "*":
            continue
        node = schema
        for part in path.split("."):
            spec = validator.schemas[node].get("properties", {}).get(part)
            if spec is None:
                raise invalid(
                    f"Invalid {where}: Invalid field mask: '{path}' does not name a field of"
                    f" {schema}."
                )
            ref = spec.get("$ref")
            if ref is None:
                break  # a scalar, list or map: Google stops the path there
            node = ref
