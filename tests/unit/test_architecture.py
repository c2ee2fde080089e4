"""The architecture's import contracts (.importlinter, docs/architecture.md) hold, and the no-cycle contract
does fail on a cycle."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from importlinter import configuration
from importlinter.application import use_cases

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_path(monkeypatch):
    """tools.contracts importable; any tiny package a test writes importable, and forgotten afterwards."""
    monkeypatch.syspath_prepend(str(ROOT))
    before = set(sys.modules)
    yield monkeypatch
    for name in set(sys.modules) - before:
        if name.startswith("tiny"):
            del sys.modules[name]


def _report(config: Path, cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    configuration.configure()  # what the lint-imports command does first
    use_cases._register_built_in_contract_types()
    return use_cases.create_report(use_cases.read_user_options(str(config)), cache_dir=None)


def test_salon_keeps_its_import_contracts(on_path):
    report = _report(ROOT / ".importlinter", ROOT, on_path)
    broken = [contract.name for contract, check in report.get_contracts_and_checks() if not check.kept]
    assert report.contains_failures is False, broken
    assert report.kept_count >= 3


def test_the_no_cycle_contract_names_a_cycle(tmp_path, on_path):
    package = tmp_path / "tinycycle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from tinycycle import b\n")
    (package / "b.py").write_text("def late():\n    from tinycycle import c  # hidden in a function: still a cycle\n")
    (package / "c.py").write_text("import tinycycle.a\n")
    (package / "d.py").write_text("from tinycycle import a\n")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "one.py").write_text("import two\n")
    (scripts / "two.py").write_text("def main():\n    import one\n")
    (scripts / "three.py").write_text("import one\n")
    config = tmp_path / ".importlinter"
    config.write_text(
        "[importlinter]\nroot_package = tinycycle\ncontract_types =\n    acyclic: tools.contracts.acyclic.AcyclicContract\n"
        "\n[importlinter:contract:no-cycles]\nname = No cycles\ntype = acyclic\npackages = tinycycle\n"
        "script_folders = scripts\n")
    on_path.syspath_prepend(str(tmp_path))
    report = _report(config, tmp_path, on_path)
    assert report.contains_failures
    [(_contract, check)] = report.get_contracts_and_checks()
    assert [cycle["modules"] for cycle in check.metadata["cycles"]] == [
        ["scripts/one", "scripts/two"], ["tinycycle.a", "tinycycle.b", "tinycycle.c"]]
    assert ("tinycycle.b", "tinycycle.c") in check.metadata["cycles"][1]["imports"]
