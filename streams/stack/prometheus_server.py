"""A Prometheus server beside the embedded stack, with the configuration and alert
rules of ops/ as they are.

ops/prometheus.yml finds its targets in `targets/api.json`, `targets/workers.json` and
`targets/sidecars.json` (file-based discovery, relative to the config). `prepare`
copies the config and the rules into a folder of the stack's and writes those files
with the ports in use, so
the same files serve `creditwatch up`, the tests and an operator's own Prometheus.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

#: ops/ of a source checkout (an installed wheel has none: then no Prometheus is started)
OPS_DIR = Path(__file__).resolve().parents[2] / "ops"
CONFIG_FILES = ("prometheus.yml", "alerts.yml")


def binary() -> str | None:
    """The `prometheus` on PATH (Debian's package `prometheus`), if any."""
    return shutil.which("prometheus")


def available() -> bool:
    return binary() is not None and all((OPS_DIR / name).is_file() for name in CONFIG_FILES)


def write_targets(
    folder: Path, api: Sequence[str], workers: Sequence[str], sidecars: Sequence[str] = ()
) -> None:
    """The scrape targets ("host:port") as file-discovery JSON; Prometheus rereads them
    when they change."""
    targets = folder / "targets"
    targets.mkdir(parents=True, exist_ok=True)
    for name, hosts in (("api", api), ("workers", workers), ("sidecars", sidecars)):
        tmp = targets / f".{name}.json.tmp"
        tmp.write_text(json.dumps([{"targets": list(hosts)}]))
        tmp.replace(targets / f"{name}.json")  # atomic: never a half-written file read


def prepare(
    folder: Path,
    api: Sequence[str],
    workers: Sequence[str],
    interval: str | None = None,
    sidecars: Sequence[str] = (),
) -> Path:
    """Copy ops/'s config and rules into `folder`, write the targets; the config's path.
    `interval` replaces the scrape and evaluation intervals (tests use a second)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in CONFIG_FILES:
        shutil.copyfile(OPS_DIR / name, folder / name)
    config = folder / "prometheus.yml"
    if interval is not None:
        text, replaced = _INTERVALS.subn(rf"\g<1>{interval}", config.read_text())
        if replaced != 2:
            raise ValueError(f"{OPS_DIR / 'prometheus.yml'}: no global intervals to replace")
        config.write_text(text)
    write_targets(folder, api, workers, sidecars)
    return config


#: the global section's two intervals (the only unindented-by-four ones in the file)
_INTERVALS = re.compile(r"^(  (?:scrape|evaluation)_interval: *)\S+", re.MULTILINE)


def argv(config: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """The command line of a Prometheus on `host:port` keeping its data beside `config`."""
    found = binary()
    if found is None:
        raise FileNotFoundError("no prometheus on PATH (Debian: apt-get install prometheus)")
    return [
        found,
        f"--config.file={config}",
        f"--storage.tsdb.path={config.parent / 'data'}",
        f"--web.listen-address={host}:{port}",
        "--web.enable-lifecycle",
    ]
