"""`creditwatch backtest`: replay an events file through a candidate rule set and the
rule set in force, side by side, on a private throwaway Redis: live state is never
touched. Both runs use the worker's own pipeline (agents/replay.py) in event time."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.grading import GRADES
from rules.ruleset import RuleSet
from streams.stack.embedded import start_redis
from streams.store import Store


@dataclass
class RunReport:
    ruleset: RuleSet
    warnings: Counter[str] = field(default_factory=Counter)
    grades: dict[str, str] = field(default_factory=dict)
    applied: int = 0
    dead_letters: int = 0

    def distribution(self) -> dict[str, int]:
        counts = Counter(self.grades.values())
        return {g: counts.get(g, 0) for g in GRADES}


@dataclass
class BacktestReport:
    baseline: RunReport
    candidate: RunReport

    def changed(self) -> list[tuple[str, str, str]]:
        """(USCC, grade in force, candidate grade) where they differ."""
        usccs = sorted(set(self.baseline.grades) | set(self.candidate.grades))
        return [
            (u, self.baseline.grades.get(u, "-"), self.candidate.grades.get(u, "-"))
            for u in usccs
            if self.baseline.grades.get(u) != self.candidate.grades.get(u)
        ]

    def render(self, show: int = 20) -> str:
        base, cand = self.baseline, self.candidate
        width = max([9, *(len(r) for r in base.warnings | cand.warnings)])
        lines = [
            f"{'':{width}}  {'in force':>12}  {'candidate':>12}",
            f"{'rule set':{width}}  {base.ruleset.version:>12}  {cand.ruleset.version:>12}",
            f"{'events':{width}}  {base.applied:>12,}  {cand.applied:>12,}",
            "",
            "warnings raised per rule",
        ]
        for rule_id in sorted(base.warnings | cand.warnings):
            b, c = base.warnings[rule_id], cand.warnings[rule_id]
            lines.append(f"{rule_id:{width}}  {b:>12,}  {c:>12,}  {_delta(b, c)}")
        lines += ["", "grades (enterprises)"]
        bd, cd = base.distribution(), cand.distribution()
        for g in GRADES:
            lines.append(f"{g:{width}}  {bd[g]:>12,}  {cd[g]:>12,}  {_delta(bd[g], cd[g])}")
        changed = self.changed()
        lines += ["", f"{len(changed):,} enterprises would change grade"]
        moves = Counter((b, c) for _, b, c in changed)
        lines += [f"  {b} -> {c}: {n:,}" for (b, c), n in sorted(moves.items())]
        if changed:
            lines.append(f"first {min(show, len(changed))}:")
            lines += [f"  {u}  {b} -> {c}" for u, b, c in changed[:show]]
        return "\n".join(lines)


def _delta(before: int, after: int) -> str:
    return "" if before == after else f"{after - before:+,}"


def read_values(path: Path) -> Iterator[bytes]:
    """The file's non-blank lines, as message values (each validated by the pipeline:
    a broken line is a dead letter in both runs, not an abort)."""
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                yield line.rstrip(b"\r\n")


def run_backtest(
    events: Path,
    candidate: RuleSet,
    baseline: RuleSet,
    allowlist: Sequence[str] = (),
    progress: bool = True,
) -> BacktestReport:
    with tempfile.TemporaryDirectory(prefix="creditwatch-backtest-") as tmp:
        redis = start_redis(Path(tmp), persist=False)
        try:
            return asyncio.run(_replay(redis.url or "", events, candidate, baseline, allowlist,
                                       progress))  # fmt: skip
        finally:
            redis.stop()


async def _replay(
    url: str,
    events: Path,
    candidate: RuleSet,
    baseline: RuleSet,
    allowlist: Sequence[str],
    progress: bool,
) -> BacktestReport:
    runs = []
    for name, ruleset in (("base", baseline), ("cand", candidate)):
        store = Store.from_url(url, f"bt-{name}", stream_maxlen=1 << 40)
        for address in allowlist:
            await store.allow_address(address)
        runs.append((store, Replayer(Pipeline(store, "fanout", ruleset, follow_published=False))))
    size = events.stat().st_size
    bar = tqdm(total=size, unit="B", unit_scale=True, desc="backtest", disable=not progress)
    try:
        batch: list[bytes] = []
        for value in read_values(events):
            batch.append(value)
            if len(batch) == 500:
                await _feed(runs, batch, bar)
                batch = []
        if batch:
            await _feed(runs, batch, bar)
        reports = [await _report(store, replayer) for store, replayer in runs]
    finally:
        bar.close()
        for store, _ in runs:
            await store.close()
    return BacktestReport(*reports)


async def _feed(runs: list[tuple[Store, Replayer]], batch: list[bytes], bar: Any) -> None:
    for _store, replayer in runs:
        await replayer.feed(batch)
    bar.update(sum(len(v) + 1 for v in batch))


async def _report(store: Store, replayer: Replayer) -> RunReport:
    report = RunReport(replayer.pipeline.ruleset)
    async for _id, record in store.scan_stream(store.warnings_stream, before=None, since_ms=None):
        if record.get("status") == "open":
            report.warnings[record["rule_id"]] += 1
    report.grades = await store.all_grades()
    report.applied = replayer.stats.applied
    report.dead_letters = replayer.stats.dead_letters
    return report
