"""pyproject.toml declares what the code imports, and requirements/lock.txt pins all of it."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCAL_PACKAGES = {"shared", "services", "tests", "bench"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(spec) for spec in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def locked_versions() -> dict[str, str]:
    text = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def imported_top_level_modules() -> set[str]:
    modules = set()
    for folder in LOCAL_PACKAGES:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules - LOCAL_PACKAGES - set(sys.stdlib_module_names)


def test_every_declared_requirement_is_locked_at_a_version_its_range_allows():
    locked = locked_versions()
    for requirement in declared_requirements():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements/lock.txt: run requirements/update"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"the lock pins {name}=={locked[name]}, outside {requirement}: run requirements/update"
        )


def test_every_locked_package_has_hashes():
    text = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    pins = PIN.findall(text)
    assert pins
    assert text.count("==") == len(pins) and len(re.findall(r"==\S+ \\\n\s+--hash=sha256:", text)) == len(pins)


def test_every_third_party_module_the_code_imports_is_declared():
    declared = {canonicalize_name(requirement.name) for requirement in declared_requirements()}
    distributions_of = packages_distributions()
    undeclared = {
        module: distributions_of.get(module, ["(not installed)"])
        for module in imported_top_level_modules()
        if not declared & {canonicalize_name(name) for name in distributions_of.get(module, [])}
    }
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"
