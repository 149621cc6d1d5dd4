"""The normalisation rule table: every rule's example, the known pitfalls, the tidying."""

from __future__ import annotations

import re

import pytest

from error_assets.fingerprinting import NORMALIZER_VERSION, RULES, normalize
from error_assets.fingerprinting.rules import apply_rules

RULE_NAMES = [rule.name for rule in RULES]


def test_rule_names_are_unique_and_version_is_set() -> None:
    assert len(set(RULE_NAMES)) == len(RULE_NAMES)
    assert re.fullmatch(r"n\d+", NORMALIZER_VERSION)


@pytest.mark.parametrize("rule", RULES, ids=RULE_NAMES)
def test_rule_example_alone(rule) -> None:
    assert rule.apply(rule.example) == rule.expected


@pytest.mark.parametrize("rule", RULES, ids=RULE_NAMES)
def test_rule_example_through_the_whole_table(rule) -> None:
    # Earlier or later rules must not undo or garble what this rule does.
    assert apply_rules(rule.example) == rule.expected


@pytest.mark.parametrize("rule", RULES, ids=RULE_NAMES)
def test_rule_prechecks_never_skip_a_match(rule) -> None:
    # The triggers / digit pre-checks are an optimisation: they must be true of the example.
    assert rule.pattern.search(rule.example), f"{rule.name}: example does not match"
    assert rule.may_match(rule.example, any(c.isdigit() for c in rule.example))


# --- pitfalls named in the issue, as regression cases ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "facade added to the decade",
        "deadbeef cafebabe effaced",
        "expected 1234567 items",
        "Build ID 20261128",
    ],
)
def test_hex_mask_leaves_words_and_plain_numbers(text: str) -> None:
    assert "<hex>" not in normalize(text)
    for word in ("facade", "added", "decade", "deadbeef", "cafebabe", "effaced"):
        if word in text:
            assert word in normalize(text)


def test_hex_ids_need_a_digit_and_a_letter() -> None:
    assert normalize("commit 9fceb02 broke it") == "commit <hex> broke it"
    assert normalize("object A1B2C3D4E5 missing") == "object <hex> missing"


@pytest.mark.parametrize(
    "uuid",
    [
        "123e4567-e89b-12d3-a456-426614174000",  # last group is 12 plain digits
        "00000000-0000-0000-0000-176429956512",  # last group looks like a ms epoch
        "F47AC10B-58CC-4372-A567-0E02B2C3D479",
    ],
)
def test_uuids_are_masked_whole_before_epochs_and_hex(uuid: str) -> None:
    assert normalize(f"lease {uuid} expired") == "lease <uuid> expired"


def test_epoch_seconds_and_milliseconds() -> None:
    assert normalize("at 1764299565 and 1764299565123") == "at <epoch> and <epoch>"
    assert normalize("ticket 9999999999") == "ticket <n>"  # not a plausible epoch, still an id


def test_paths_keep_the_module_under_the_checkout_root() -> None:
    a = normalize("File /home/runner/work/shop/shop/src/orders/utils.py, line 12")
    b = normalize("File /__w/shop/shop/src/billing/utils.py, line 99")
    assert a == "File <src>/src/orders/utils.py, line <line>"
    assert b == "File <src>/src/billing/utils.py, line <line>"
    assert a != b


def test_same_file_under_different_runners_is_equal() -> None:
    linux = normalize("/home/runner/work/shop/shop/tests/test_api.py:41: AssertionError")
    container = normalize("/__w/shop/shop/tests/test_api.py:97: AssertionError")
    windows = normalize("D:\\a\\shop\\shop\\tests/test_api.py:12: AssertionError")
    assert linux == container == windows == "<src>/tests/test_api.py:<line>: AssertionError"


def test_temp_paths_keep_only_the_file() -> None:
    assert (
        normalize("read /tmp/pytest-of-runner/pytest-7/test_x0/out.json") == "read <tmp>/out.json"
    )
    assert (
        normalize("read /private/var/folders/ab/xy12/T/tmpk2j3_lq0/out.json")
        == "read <tmp>/out.json"
    )


def test_installed_packages_keep_the_package_path() -> None:
    text = 'File "/opt/conda/envs/py_3.10/lib/python3.10/site-packages/torch/nn/modules/module.py"'
    assert normalize(text) == 'File "<pkgs>/torch/nn/modules/module.py"'
    assert normalize("at /app/node_modules/react-dom/index.js:12:3") == (
        "at <pkgs>/react-dom/index.js:<line>"
    )


def test_clock_times_and_source_line_columns_do_not_collide() -> None:
    assert normalize("tests/a.rs:12:34: error at 12:34:56") == "tests/a.rs:<line>: error at <time>"


def test_ipv6_does_not_eat_cpp_or_rust_paths() -> None:
    assert normalize("std::vector::at failed; crate::io::read") == (
        "std::vector::at failed; crate::io::read"
    )
    assert normalize("connect to [2001:db8::1]:443 failed") == "connect to <ip> failed"
    assert normalize("listen on ::1 failed") == "listen on <ip> failed"


def test_ipv4_with_and_without_port() -> None:
    assert normalize("10.0.0.7:5432 and 192.168.1.1") == "<ip> and <ip>"
    assert normalize("version 1.2.3 of numpy") == "version 1.2.3 of numpy"


def test_durations_and_sizes() -> None:
    assert normalize("took 1h2m3.5s, 250ms, 3 minutes") == "took <duration>, <duration>, <duration>"
    assert normalize("needs 1.5 GiB, 512KiB, 10 MB, 2048 bytes") == (
        "needs <size>, <size>, <size>, <size>"
    )


def test_exit_codes_and_http_statuses_survive() -> None:
    assert normalize("Process completed with exit code 137.") == (
        "Process completed with exit code 137."
    )
    assert normalize("responded with 503") == "responded with 503"


def test_pids_tids_and_addresses() -> None:
    assert normalize("PID: 4242 TID 17 thread 9 at 0x7ffd5e3c2a10") == (
        "PID: <pid> TID <pid> thread <pid> at <addr>"
    )


def test_github_ids_and_runner_names() -> None:
    text = "https://github.com/o/r/actions/runs/6861749650/job/18658826213 on GitHub Actions 12"
    assert normalize(text) == "https://github.com/o/r/actions/runs/<id>/job/<id> on <runner>"
    assert normalize("runner gha-runner-x7k2p-9d8f2 lost") == "runner <runner> lost"


def test_pytest_parameters() -> None:
    assert (
        normalize("FAILED tests/t.py::test_io[utf-8-3] - E")
        == "FAILED tests/t.py::test_io[<param>] - E"
    )
    # Indexing in an assertion is not a parameter id.
    assert normalize("assert values[0] == 1") == "assert values[0] == 1"


def test_ansi_sequences_and_residue() -> None:
    assert normalize("\x1b[31mFAILED\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07") == "FAILED link"
    assert normalize("[1;31mERROR[m] boom") == "ERROR] boom"


def test_tidying_collapses_blanks_and_drops_repeated_lines() -> None:
    text = "2026-11-28T01:00:00.1Z  retry   failed \n\n2026-11-28T01:00:09.9Z retry failed\r\nnext"
    assert normalize(text) == "retry failed\nnext"


def test_normalize_is_idempotent_on_realistic_text() -> None:
    text = (
        "2026-07-30T10:35:18.6494363Z ##[error]Action 'https://codeload.github.com/o/r/tar.gz/"
        "050ce9e1226b95d6b5938bdd5e245491f7219fd8' download has timed out after 100 seconds"
    )
    once = normalize(text)
    assert once == (
        "##[error]Action 'https://codeload.github.com/o/r/tar.gz/<hex>' download has timed out "
        "after <duration>"
    )
    assert normalize(once) == once


def _lines(texts: list[str]) -> list[str]:
    return [line for text in texts for line in text.split("\n")]


def test_re2_probes_pick_the_same_rules_as_the_pure_python_checks() -> None:
    import random

    from error_assets.fingerprinting import rules
    from tests.fingerprinting.quality_set import family_items

    if rules._PROBE_SET is None:
        pytest.skip("google-re2 is not installed: only the pure-Python path exists")
    items = family_items(random.Random(9), variants=6)
    lines = _lines([i.message for i in items] + [i.text for i in items])
    lines += [rule.example for rule in RULES]
    for line in lines:
        assert apply_rules(line) == apply_rules(line, use_probes=False), line


@pytest.mark.realworld
def test_re2_probes_agree_on_realworld_lines(realworld_dir) -> None:
    import json

    from error_assets.fingerprinting import rules

    if rules._PROBE_SET is None:
        pytest.skip("google-re2 is not installed: only the pure-Python path exists")
    path = realworld_dir / "error_snippets.jsonl"
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    for line in _lines(texts):
        assert apply_rules(line) == apply_rules(line, use_probes=False), line
