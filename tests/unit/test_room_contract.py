"""The rooms contract (tools/contracts/rooms.py, `rooms-through-services` in .importlinter): a room reaches
another room only through its services, signals or limits. Kept by salon; broken by a room that imports another
room's models."""
import sys
import textwrap
from pathlib import Path

import grimp
import pytest
from importlinter import api

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tools.contracts.rooms import RoomsContract  # noqa: E402  (tools/ is a folder of scripts, importable from the root)


def contract_options() -> tuple[dict, bool]:
    config = api.read_configuration(str(REPO / ".importlinter"))
    options = next(c for c in config["contracts_options"] if c["id"] == "rooms-through-services")
    exclude = str(config["session_options"].get("exclude_type_checking_imports", "")).lower() == "true"
    return {k: v for k, v in options.items() if k not in ("id", "name", "type")}, exclude


def test_salon_keeps_its_rooms_apart():
    options, exclude = contract_options()
    graph = grimp.build_graph("salon", exclude_type_checking_imports=exclude, cache_dir=None)
    check = RoomsContract("rooms", {}, options).check(graph, verbose=False)
    assert check.kept, [f"{r['importer']} -> {r['imported']}" for r in check.metadata["reaches"]]
    assert not check.warnings


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def house(tmp_path, monkeypatch):
    """A tiny package with two rooms, alpha (owning a table) and beta, and a kernel package."""
    write_package(tmp_path, {
        "house/__init__.py": "",
        "house/models.py": "from house.alpha import models\n",  # an aggregator, exempt
        "house/kernel/__init__.py": "",
        "house/alpha/__init__.py": "",
        "house/alpha/models.py": "ROWS = []\n",
        "house/alpha/limits.py": "NAME_MAX = 80\n",
        "house/alpha/services.py": "from house.alpha.models import ROWS\n\ndef rows():\n    return list(ROWS)\n",
        "house/beta/__init__.py": "",
        "house/beta/services.py": "from house.alpha import services as alpha\nfrom house.alpha.limits import NAME_MAX\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def check_house(options: dict | None = None):
    contract = RoomsContract("rooms", {}, {"root": "house", "kernel": ["house.kernel"],
                                           "public": ["services", "signals", "limits"],
                                           "exempt": ["house.models"], **(options or {})})
    return contract.check(grimp.build_graph("house", cache_dir=None), verbose=False)


def test_a_room_asking_the_owning_rooms_services_keeps_the_contract(house):
    assert check_house().kept


def test_a_room_reading_another_rooms_models_breaks_the_contract(house):
    write_package(house, {"house/beta/views.py": """\
        from house.alpha.models import ROWS

        def page():
            return len(ROWS)
        """})
    check = check_house()
    assert not check.kept
    assert [(r["importer"], r["imported"], r["line_numbers"]) for r in check.metadata["reaches"]] == [
        ("house.beta.views", "house.alpha.models", [1])]
    assert check_house({"ignore_imports": ["house.beta.views -> house.alpha.models"]}).kept


def test_a_kernel_module_reaching_into_a_room_breaks_the_contract(house):
    write_package(house, {"house/kernel/tools.py": "from house.alpha import models\n"})
    assert not check_house().kept


def test_an_ignored_import_that_no_longer_exists_is_an_error(house):
    with pytest.raises(Exception, match="house.beta.views"):
        check_house({"ignore_imports": ["house.beta.views -> house.alpha.models"]})


def test_a_services_package_is_reached_through_its_face_not_its_modules(house):
    """A room's services split into a package (salon/ballots/services/) stay one public module: the package,
    whose __init__ re-exports what the others use. Its modules are the room's own; another room importing one
    of them directly breaks the contract, so there is one way in."""
    (house / "house/alpha/services.py").unlink()
    write_package(house, {
        "house/alpha/services/__init__.py": "from .reading import rows\n\n__all__ = ['rows']\n",
        "house/alpha/services/reading.py": "from house.alpha.models import ROWS\n\ndef rows():\n    return list(ROWS)\n",
    })
    assert check_house().kept
    write_package(house, {"house/beta/views.py": "from house.alpha.services.reading import rows\n"})
    check = check_house()
    assert not check.kept
    assert [(r["importer"], r["imported"]) for r in check.metadata["reaches"]] == [
        ("house.beta.views", "house.alpha.services.reading")]
