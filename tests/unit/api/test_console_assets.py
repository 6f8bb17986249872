"""The console's vendored assets are the files their manifest names: same hashes,
licences beside them, and every asset the pages load is listed."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import api.console

STATIC = Path(api.console.__file__).parent / "static"
VENDOR = STATIC / "vendor"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_vendored_file_matches_its_manifest() -> None:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text())
    listed: set[str] = {"MANIFEST.json"}
    for asset in manifest["assets"]:
        assert asset["name"] and asset["version"] and asset["licence"]
        for name in ("file", "licence_file", "notice_file"):
            if name in asset:
                hash_name = {"file": "sha256"}.get(name, name.replace("_file", "_sha256"))
                assert _sha256(VENDOR / asset[name]) == asset[hash_name], asset[name]
                listed.add(asset[name])
    assert {p.name for p in VENDOR.iterdir()} == listed  # nothing unlisted


def test_the_pages_load_only_vendored_or_own_assets() -> None:
    base = (Path(api.console.__file__).parent / "templates" / "base.html").read_text()
    sources = re.findall(r'(?:src|href)="(/console/static/[^"]+)"', base)
    assert sources and all((STATIC / s.removeprefix("/console/static/")).is_file() for s in sources)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', base)
