"""``environment.yml`` (conda) and ``constraints.txt`` (pip, used by ``make``) agree.

Both describe the same course environment: Python 3.11 and exact pins. A
package pinned in one must have the same version in the other, and every
direct dependency declared in ``pyproject.toml`` must be pinned in both.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORE = ["torch", "numpy", "matplotlib", "jupyter-book", "nbval", "pytest"]
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*$")


def normalize(name: str) -> str:
    """PEP 503 name normalization: ``Jinja2`` == ``jinja2``, ``myst_nb`` == ``myst-nb``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, raw in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"constraints.txt:{number}: not an exact 'name==version' pin: {raw!r}"
        name = normalize(match[1])
        assert name not in pins, f"constraints.txt:{number}: {name} pinned twice"
        pins[name] = match[2]
    return pins


def read_environment() -> dict:
    path = ROOT / "environment.yml"
    assert path.is_file(), "environment.yml is missing"
    env = yaml.safe_load(path.read_text())
    assert isinstance(env, dict) and isinstance(env.get("dependencies"), list), (
        "environment.yml needs a 'dependencies' list"
    )
    return env


def environment_pins(env: dict) -> dict[str, str]:
    """``name==version`` pins from the pip section (and any ``==`` pin in the conda part)."""
    pins: dict[str, str] = {}
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    for entry in [e for section in pip_sections for e in section] + conda:
        match = PIN.match(str(entry))
        if match:
            name = normalize(match[1])
            assert name not in pins, f"environment.yml pins {name} twice"
            pins[name] = match[2]
    return pins


def pyproject_direct_dependencies() -> set[str]:
    """Every package named in pyproject's dependencies and extras, except the project itself."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs.extend(extra)
    names = {normalize(re.match(r"\s*([A-Za-z0-9._-]+)", s)[1]) for s in specs}
    return names - {normalize(project["name"])}


def test_constraints_are_exact_unique_pins():
    pins = read_constraints()
    for name in CORE:
        assert name in pins, f"constraints.txt does not pin {name}"


def test_environment_yml_is_python_3_11_with_a_pip_section():
    env = read_environment()
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pythons = [d for d in conda if re.match(r"^python\s*[=<>!]", d)]
    assert len(pythons) == 1, f"exactly one python entry expected, got {pythons}"
    assert re.fullmatch(r"python\s*==?\s*3\.11(\.\d+|\.\*)?", pythons[0]), pythons[0]
    assert any(isinstance(d, dict) and isinstance(d.get("pip"), list) for d in env["dependencies"])
    # conda warns and may skip the pip section when pip itself is not a dependency
    assert any(re.fullmatch(r"pip(\s*[=<>].*)?", d) for d in conda), "list 'pip' in dependencies"


def test_every_environment_pin_matches_constraints():
    constraints = read_constraints()
    pins = environment_pins(read_environment())
    mismatched = {
        name: (version, constraints.get(name))
        for name, version in pins.items()
        if constraints.get(name) != version
    }
    assert not mismatched, f"environment.yml vs constraints.txt (name: (yml, txt)): {mismatched}"


@pytest.mark.parametrize("name", CORE)
def test_core_packages_are_pinned_in_both(name):
    constraints = read_constraints()
    pins = environment_pins(read_environment())
    assert name in constraints, f"constraints.txt does not pin {name}"
    assert name in pins, f"environment.yml does not pin {name}=={constraints[name]}"
    assert pins[name] == constraints[name]


def test_every_direct_dependency_is_pinned_in_both():
    constraints = read_constraints()
    pins = environment_pins(read_environment())
    direct = pyproject_direct_dependencies()
    assert set(CORE) <= direct, f"pyproject.toml lacks {sorted(set(CORE) - direct)}"
    missing = sorted(direct - constraints.keys())
    assert not missing, f"not in constraints.txt: {missing}"
    assert not direct - pins.keys(), f"not pinned in environment.yml: {sorted(direct - pins)}"


def test_exact_pins_in_pyproject_agree_with_constraints():
    constraints = read_constraints()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs.extend(extra)
    for spec in specs:
        match = PIN.match(spec)
        if match:
            assert constraints.get(normalize(match[1])) == match[2], spec


@pytest.mark.parametrize("name", CORE)
def test_installed_versions_are_the_pinned_ones(name):
    """The environment the tests run in was built from the pins (a local label like +cpu aside)."""
    installed = metadata.version(name).split("+", 1)[0]
    assert installed == read_constraints()[name]
