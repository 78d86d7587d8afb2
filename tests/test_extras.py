"""Extras install what they promise: ``pip install 'gifdist[nsfw]'`` into a fresh virtual
environment gives a working local NSFW scanner, with no install step outside pyproject."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("pyproject.toml", "README.md")
NON_EXTRAS = {"all", "dev"}

# Runs inside the fresh environment: the scanner the moderation pipeline picks up on
# its own must load NudeNet's bundled model and judge a real GIF frame, without
# importing OpenCV (which nudenet depends on but the scanner never uses).
SCAN_A_FRAME = """
import sys
from PIL import Image
from gifdist.moderation import ContentCategory, ContentScanner
from gifdist.moderation.visual import LocalNsfwScanner, bundled_model_path

path = sys.argv[1]
frames = [Image.new("RGB", (64, 48), (200, 180, 90)), Image.new("RGB", (64, 48), (20, 80, 200))]
frames[0].save(path, save_all=True, append_images=frames[1:], duration=80, loop=0)
assert bundled_model_path() is not None, "nudenet's model file is not installed"
scanner = ContentScanner()
assert isinstance(scanner.visual_scanner, LocalNsfwScanner), scanner.visual_scanner
category, confidence, reasons = scanner.scan_visual_content(path, "0" * 64)
assert category is ContentCategory.SAFE, (category, reasons)
assert "2 sampled frames" in reasons[0], reasons
assert "cv2" not in sys.modules, "the scanner imported OpenCV"
print("scanned", category.value, confidence)
"""


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def test_all_names_every_extra() -> None:
    extras = pyproject()["project"]["optional-dependencies"]  # type: ignore[index]
    assert isinstance(extras, dict)
    (requirement,) = extras["all"]
    name, _, listed = requirement.rstrip("]").partition("[")
    assert name == "gifdist"
    assert set(listed.split(",")) == set(extras) - NON_EXTRAS


def test_the_makefile_installs_nothing_by_hand() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert "--no-deps" not in makefile
    assert "nudenet" not in makefile


@pytest.mark.timeout(600)
def test_nsfw_extra_in_a_fresh_venv_loads_the_model_and_scans_a_frame(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "gifdist", source / "gifdist", ignore=shutil.ignore_patterns("__pycache__")
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"{source}[nsfw]"],
        capture_output=True,
        text=True,
        env=env,
        timeout=540,
    )
    assert install.returncode == 0, install.stderr[-4000:]
    scan = subprocess.run(
        [str(python), "-c", SCAN_A_FRAME, str(tmp_path / "frame.gif")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert scan.returncode == 0, scan.stderr[-4000:]
    assert scan.stdout.startswith("scanned safe")
