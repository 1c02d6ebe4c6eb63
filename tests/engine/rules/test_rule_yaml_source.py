"""Reading YAML with positions: syntax errors, duplicate keys, aliases, and exact locations."""

from __future__ import annotations

import pytest

from engine.rules.problems import RuleSetError
from engine.rules.yaml_source import load_yaml


def _problems(text: str) -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        load_yaml(text, "r.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_syntax_error_points_at_the_line() -> None:
    (problem,) = _problems("a: 1\nb: [1, 2\nc: 3\n")
    assert problem.startswith("r.yaml:3:2: YAML syntax error:")


def test_duplicate_keys_are_refused_not_silently_overwritten() -> None:
    assert _problems("a: 1\nb:\n  x: 1\n  x: 2\n") == [
        "r.yaml:4:3: duplicate key 'x' (first given on line 3)"
    ]


def test_non_text_keys_and_merge_keys_are_refused() -> None:
    assert _problems("1: a\n") == ["r.yaml:1:1: keys must be text, not '1'"]
    assert _problems("yes: a\n") == ["r.yaml:1:1: keys must be text, not 'yes'"]
    merged = _problems("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert merged == ["r.yaml:3:3: merge keys (<<) are not supported: repeat the values"]


def test_empty_file() -> None:
    assert _problems("# only a comment\n") == ["r.yaml: the file is empty"]


def test_alias_bombs_are_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 7):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    (problem,) = _problems("\n".join(lines) + "\n")
    assert "expands to more than" in problem


def test_positions_of_plain_quoted_and_block_scalars() -> None:
    text = "plain: a > 1\nquoted: 'b > 2'\nfolded: >-\n  c > 3\n  and d\nmulti: e > 4\n  and f\n"
    _, source = load_yaml(text, "r.yaml")
    assert source.origin(("plain",)).line == 1
    assert source.origin(("plain",)).column == 8
    assert (source.origin(("quoted",)).line, source.origin(("quoted",)).column) == (2, 10)
    assert source.position(("folded",), 6) == (5, 3)  # 'and d' starts the second line
    assert source.position(("multi",), 6) == (7, 3)
    expression, origin = source.expression(("multi",), "e > 4 and f")
    assert expression.split("\n") == ["     e > 4", "and f"]  # padded to its column
    assert (origin.line, origin.column) == (6, 3)
