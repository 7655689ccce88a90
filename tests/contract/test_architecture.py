"""The import rules of DESIGN §1 hold: import-linter checks the contracts in pyproject.toml.

shared never imports services; the contract (shared.schemas, shared.topology) imports nothing
from the plumbing; a service never imports another; a notifier capability imports no sibling
capability except through email/, preferences/ and the skeleton. The contracts name packages, so a new service
or capability must be added to them: the last two tests say so when one is missing.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Packages of services/ allowed to import services: they stand above them.
ABOVE_THE_SERVICES = {"cli", "migrations"}
#: What every notifier capability may share: email/, the users' preferences (which decide what
#: any capability sends) and the skeleton's templates.
NOTIFIER_SHARED = {"email", "preferences", "templates"}


def contract(contract_id: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    [found] = [c for c in config["contracts"] if c["id"] == contract_id]
    return found


def packages_in(folder: Path) -> set[str]:
    return {path.parent.name for path in folder.glob("*/__init__.py")}


def test_the_import_contracts_hold():
    # In a process of its own: import-linter reconfigures logging (disabling every logger that
    # exists), which would silence the loggers later tests read.
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [lint_imports, "--config", ROOT / "pyproject.toml", "--no-cache", "--no-logo"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_service_is_kept_independent():
    services = packages_in(ROOT / "services") - ABOVE_THE_SERVICES
    assert set(contract("services-independent")["modules"]) == {f"services.{name}" for name in services}


def test_every_notifier_capability_is_kept_independent():
    capabilities = packages_in(ROOT / "services" / "notifier") - NOTIFIER_SHARED
    listed = set(contract("notifier-capabilities-independent")["modules"])
    assert listed == {f"services.notifier.{name}" for name in capabilities}
