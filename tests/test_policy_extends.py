"""``extends:``: a policy built on a pack or a file, overridden per check by name."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from guard import Guard, Policy, PolicyError


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_extends_a_shipped_pack_keeps_its_checks_and_adds_new_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "team.yaml",
        """\
        extends: default
        input:
          - check: rules
            name: team-words
            rules:
              - {name: codename, keywords: [project bluebird], action: block}
        """,
    )
    policy = Policy.load(path)
    assert [c.name for c in policy.input] == ["denylist", "secrets", "injection", "team-words"]
    assert [c.name for c in policy.output] == ["secrets"]
    # Not the base's name: replicas would look like they run diverging "default"s.
    assert policy.name == "team"
    assert policy.files == (str(path), str(Policy.default().source))
    guard = Guard(policy)
    assert guard.check_input("tell me about Project Bluebird").blocked
    assert guard.check_input("how to make a bomb").blocked  # the base's denylist


def test_an_entry_with_a_base_name_overrides_only_the_keys_it_sets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
        extends: default
        name: team
        input:
          - check: rules
            name: injection
            mode: shadow
        """,
    )
    policy = Policy.load(path)
    injection = next(c for c in policy.input if c.name == "injection")
    assert injection.mode == "shadow"
    assert injection.rules[0].name == "instruction-override"  # kept from the base
    assert [c.name for c in policy.input] == ["denylist", "secrets", "injection"]  # position


def test_enabled_false_removes_a_base_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
        extends: default
        input:
          - {check: rules, name: denylist, enabled: false}
        output:
          - {check: rules, name: secrets, enabled: false}
        """,
    )
    policy = Policy.load(path)
    assert [c.name for c in policy.input] == ["secrets", "injection"]
    assert policy.output == []
    assert not Guard(policy).check_input("how to make a bomb").blocked


def test_disabling_a_name_the_base_lacks_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
        extends: default
        input:
          - {check: rules, name: denylst, enabled: false}
        """,
    )
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    assert caught.value.file == str(path) and caught.value.line == 3
    assert "denylst" in str(caught.value) and "no input entry" in str(caught.value)


def test_an_entry_of_another_check_type_replaces_the_base_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
        extends: default
        input:
          - {check: injection, name: injection, action: block}
        """,
    )
    policy = Policy.load(path)
    assert next(c for c in policy.input if c.name == "injection").check == "injection"


def test_scalars_and_stream_keys_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
        extends: default
        mode: shadow
        stream: {max_holdback: 128}
        """,
    )
    policy = Policy.load(path)
    assert policy.mode == "shadow"
    assert policy.stream.max_holdback == 128 and policy.stream.mode == "progressive"


def test_a_file_base_is_relative_to_the_policy_and_chains(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base/root.yaml",
        """\
        name: root
        input:
          - check: rules
            name: words
            rules: [{name: w, keywords: [alpha], action: block}]
        """,
    )
    write(tmp_path, "base/middle.yaml", "extends: root.yaml\nmax_reasks: 2\n")
    path = write(tmp_path, "teams/leaf.yaml", "extends: ../base/middle.yaml\nname: leaf\n")
    policy = Policy.load(path)
    assert policy.max_reasks == 2 and policy.name == "leaf"
    assert [Path(f).name for f in policy.files] == ["leaf.yaml", "middle.yaml", "root.yaml"]
    assert Guard(policy).check_input("alpha").blocked


def test_a_cycle_is_a_load_error_naming_file_and_line(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "name: a\nextends: b.yaml\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\n")
    with pytest.raises(PolicyError) as caught:
        Policy.load(a)
    assert "cycle" in str(caught.value) and "a.yaml -> b.yaml -> a.yaml" in str(caught.value)
    assert caught.value.line == 2 and caught.value.field == "extends"


def test_a_self_reference_is_a_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: ./a.yaml\n")
    with pytest.raises(PolicyError, match="cycle"):
        Policy.load(a)


@pytest.mark.parametrize(
    ("target", "message"),
    [("missing.yaml", "does not exist"), ("nopack", "no shipped pack 'nopack'"), ("''", "must")],
)
def test_a_missing_base_is_a_load_error_naming_file_and_line(
    tmp_path: Path, target: str, message: str
) -> None:
    path = write(tmp_path, "p.yaml", f"name: p\n\nextends: {target}\n")
    with pytest.raises(PolicyError, match=message) as caught:
        Policy.load(path)
    assert caught.value.file == str(path) and caught.value.line == 3


def test_an_error_in_an_override_names_the_childs_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
        extends: default
        input:
          - check: rules
            name: team
            rules:
              - name: bad
                regex: "(unclosed"
        """,
    )
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    assert caught.value.file == str(path) and caught.value.line == 7
    assert caught.value.field == "input[3].rules[0].regex"


def test_an_error_in_a_base_names_the_bases_file_and_line(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "name: base\nmode: enforced\n")
    path = write(tmp_path, "p.yaml", "extends: base.yaml\nname: p\n")
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    assert caught.value.file == str(base) and caught.value.line == 2


def test_duplicate_new_names_are_still_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
        extends: default
        input:
          - {check: rules, name: extra, rules: [{name: a, keywords: [x]}]}
          - {check: rules, name: extra, rules: [{name: b, keywords: [y]}]}
        """,
    )
    # The second entry overrides the first (same name): one entry, the later keys win.
    policy = Policy.load(path)
    extra = next(c for c in policy.input if c.name == "extra")
    assert extra.rules[0].name == "b"


def test_from_dict_supports_extends_of_a_pack() -> None:
    policy = Policy.from_dict({"extends": "default", "name": "inline", "mode": "shadow"})
    assert policy.mode == "shadow" and len(policy.input) == 3
