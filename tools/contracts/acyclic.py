"""An import-linter contract: no import cycle among the modules of a package, nor among the scripts of a folder.

Every import counts, at the top of a module or inside a function: an import moved into a function still
runs, and hiding a circle that way is what the contract exists to stop. A cycle is a strongly connected
component of the import graph with more than one module (or a module importing itself); the report names
each one's modules and the imports that close it.

    [importlinter:contract:no-cycles]
    name = No import cycle in salon
    type = tools.contracts.acyclic.AcyclicContract
    packages = salon
    script_folders = bench      # optional: a folder of scripts that import each other by file name

A package is read from the graph import-linter built (its root packages). A script folder is not a package
(bench/ballots.py runs as `python bench/ballots.py` and imports `harness`, a file beside it), so its
scripts are parsed here and an import of a sibling script's name is an edge between them."""
from __future__ import annotations

import ast
from pathlib import Path

from importlinter import Contract, ContractCheck, fields, output


class AcyclicContract(Contract):
    packages = fields.ListField(subfield=fields.StringField())
    script_folders = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph, verbose: bool) -> ContractCheck:
        edges: dict[str, set[str]] = {}
        for package in self.packages:
            for module in graph.find_descendants(package) | {package}:
                edges[module] = {imported for imported in graph.find_modules_directly_imported_by(module)
                                 if imported == package or imported.startswith(package + ".")}
        for folder in self.script_folders or ():
            edges.update(script_edges(Path(folder)))
        cycles = strongly_connected_cycles(edges)
        output.verbose_print(verbose, f"{len(edges)} modules, {len(cycles)} cycles")
        return ContractCheck(kept=not cycles, metadata={"cycles": [
            {"modules": cycle, "imports": _closing_imports(cycle, edges)} for cycle in cycles]})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"Import cycle among {len(cycle['modules'])} modules: {', '.join(cycle['modules'])}",
                               bold=True)
            output.new_line()
            for importer, imported in cycle["imports"]:
                output.indent_cursor()
                output.print_error(f"{importer} -> {imported}", bold=False)
            output.new_line()


def script_edges(folder: Path) -> dict[str, set[str]]:
    """The folder's scripts (top-level *.py) and which of them each imports, by the sibling's file name."""
    scripts = {path.stem: path for path in sorted(folder.glob("*.py"))}
    edges: dict[str, set[str]] = {}
    for name, path in scripts.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
        edges[f"{folder.name}/{name}"] = {f"{folder.name}/{other}" for other in found if other in scripts}
    return edges


def strongly_connected_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: every component of more than one module, or with a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    cycles.append(sorted(component))
    return sorted(cycles)


def _closing_imports(cycle: list[str], edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    members = set(cycle)
    return [(importer, imported) for importer in cycle for imported in sorted(edges.get(importer, ()))
            if imported in members]
