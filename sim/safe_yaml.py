"""YAML read with budgets: what a user's file can cost is bounded before it is used.

YAML has anchors and aliases (``&a`` / ``*a``) that let a small file describe a huge document:
nine levels of ten aliases each ("billion laughs") expand to 10⁹ values. PyYAML builds such a
document as shared references, cheaply, but anything that walks it afterwards (validation,
an error message quoting the input, a deep copy) runs for minutes and gigabytes. So a file is
read in three steps:

1. its size is capped (:data:`MAX_BYTES`) and it must be UTF-8 text;
2. it is composed into a node graph, which is measured as if every alias were written out:
   more than :data:`MAX_NODES` values, or nesting deeper than :data:`MAX_DEPTH`, is refused
   before anything is built;
3. it is constructed into Python values, refusing a mapping that gives the same key twice
   (YAML says keys are unique; PyYAML silently keeps the last) and any number that is not
   finite (``.inf``, ``.nan``).

Every refusal is a :class:`YamlError` whose one-line message names the line (and, for values,
the field path); callers prefix the file name.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

#: Largest file read (bytes); scenario and policy files are a few kilobytes.
MAX_BYTES = 4 * 1024 * 1024
#: Most values a document may expand to, aliases written out.
MAX_NODES = 200_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 50


class YamlError(ValueError):
    """A document that is not acceptable YAML input; the message is one line. ``line`` is
    where a syntax error is (1-based), None for the other refusals."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class _Loader(yaml.SafeLoader):
    """SafeLoader refusing duplicate keys (a merged ``<<: *base`` key may be overridden)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: the base class reports it
                if first is not None:
                    raise YamlError(
                        f"line {line}: {key}: duplicate key (first given on line {first})"
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        if len(node.value) > 40:
            raise YamlError(
                f"line {node.start_mark.line + 1}: {node.value[:12]}...: a number of "
                f"{len(node.value)} digits; not a plausible value"
            )
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def load(text: str | bytes) -> Any:
    """Parse one YAML document within the budgets; raises :class:`YamlError`."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise YamlError(f"larger than {MAX_BYTES // (1024 * 1024)} MB; not a scenario file")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlError(f"not UTF-8 text (byte {exc.start}); a binary file?") from None
    if len(text) > MAX_BYTES:
        raise YamlError(f"larger than {MAX_BYTES // (1024 * 1024)} MB; not a scenario file")
    if "\x00" in text:
        raise YamlError("contains NUL bytes; a binary file?")
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node)
        data = loader.construct_document(node)
    except RecursionError:
        raise YamlError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        if isinstance(exc, YamlError):
            raise
        raise YamlError(f"a value cannot be read: {str(exc).splitlines()[0]}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark else 0
        raise YamlError(f"{where}invalid YAML: {problem}", line) from None
    finally:
        if loader is not None:
            loader.dispose()
    _finite(data, ())
    return data


def _measure(root: yaml.Node) -> None:
    """Refuse a node graph that expands beyond :data:`MAX_NODES` or :data:`MAX_DEPTH`."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    # iterative post-order walk: a deep document must not exhaust the Python stack here
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not done:
            stack.append((node, True))
            stack += [(c, False) for c in children if id(c) not in sizes]
            if len(stack) > 4 * MAX_NODES:
                raise YamlError(f"more than {MAX_NODES:,} values")
            continue
        size = 1 + sum(sizes.get(id(c), 0) for c in children)
        depth = 1 + max((depths.get(id(c), 0) for c in children), default=0)
        if size > MAX_NODES:
            line = node.start_mark.line + 1
            raise YamlError(
                f"line {line}: expands to more than {MAX_NODES:,} values "
                "(aliases of aliases, a 'billion laughs' document?)"
            )
        if depth > MAX_DEPTH:
            raise YamlError(
                f"line {node.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels"
            )
        sizes[key] = size
        depths[key] = depth


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _finite(value: Any, path: tuple) -> None:
    """Refuse ``.inf`` and ``.nan`` anywhere (the document is already known to be small)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise YamlError(f"{_dotted(path) or 'value'}: must be a finite number (got {value})")
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(v, (*path, i))


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out
