"""Rooms keep to their own tables: a room reaches another room only through its public modules.

A room is a package directly under the root package (salon.schedule, salon.topics, …), except the kernel
packages named in `kernel` (salon.rules, salon.sealed, salon.api): they belong to no room. A module at the top
of the root package (salon.database, salon.clock, …) belongs to no room either.

For every import of a module of room Y by a module outside Y, the imported module must be Y's package itself
or one of Y's `public` modules (salon.Y.services, salon.Y.signals, salon.Y.limits). So no room imports another
room's models to query or lock its rows: it asks the owning room's services (`lock_session`, `active_seats`,
`numbered_session` …), and each query and each lock lives once, in its owning room. Model relationships and
foreign keys between rooms' models stay: they are the schema, not queries. Importers named in
`exempt` (the aggregators that must see every room: the factory, salon.models for Alembic, the command
line, the demo) may import anything. Imports listed in `ignore_imports` are known exceptions still to be
removed; an entry that no longer matches an import breaks the contract, so the list can only shrink.

Registered in .importlinter as `contract_types = rooms: contracts.rooms.RoomsContract` (tools/ on the path).
"""
from __future__ import annotations

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.contracts._common import format_line_numbers
from importlinter.application.contract_utils import AlertLevel, remove_ignored_imports_and_report


def room_of(module: str, root: str, kernel: set[str]) -> str | None:
    """The room package a module belongs to, or None for the root's own modules and the kernel packages."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != root:
        return None
    package = f"{root}.{parts[1]}"
    return None if package in kernel else package


class RoomsContract(Contract):
    """Options: `root` (the root package), `kernel` (packages under the root that are not rooms), `public`
    (module names of a room that other rooms may import), `exempt` (importers that may import anything),
    `ignore_imports` (known exceptions, import-linter's import expressions)."""

    type_name = "rooms"

    root = fields.StringField()
    kernel = fields.SetField(subfield=fields.StringField(), required=False, default=set())
    public = fields.SetField(subfield=fields.StringField())
    exempt = fields.SetField(subfield=fields.StringField(), required=False, default=set())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = remove_ignored_imports_and_report(graph, self.ignore_imports, AlertLevel.ERROR)
        kernel = set(self.kernel)
        reaches = []
        for imported in sorted(graph.modules):
            room = room_of(imported, self.root, kernel)
            if room is None or imported == room or imported in self.public \
                    or imported in {f"{room}.{name}" for name in self.public}:
                continue
            for importer in sorted(graph.find_modules_that_directly_import(imported)):
                if importer in self.exempt or room_of(importer, self.root, kernel) == room:
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                reaches.append({"importer": importer, "imported": imported, "room": room,
                                "line_numbers": [d["line_number"] for d in details]})
        output.verbose_print(verbose, f"{len(reaches)} import(s) into another room's private modules; "
                                      f"{removal.ignored_import_count} ignored.")
        return ContractCheck(kept=not reaches, warnings=list(removal.warnings), metadata={"reaches": reaches})

    def render_broken_contract(self, check: ContractCheck) -> None:
        public = ", ".join(sorted(self.public))
        for reach in check.metadata["reaches"]:
            lines = format_line_numbers(reach["line_numbers"])
            output.print_error(f"{reach['importer']} -> {reach['imported']} ({lines})", bold=False)
        output.new_line()
        output.print_error(f"A room reaches another room only through its package or its {public} modules: "
                           "ask the owning room's services for its rows and its locks.", bold=False)
