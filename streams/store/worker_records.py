"""What a worker's batch loads (`Loaded`) and commits (`Commit`) per enterprise, as the
store reads and writes them (streams/store/state_io.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rules.jsoncodec import dumpb
from rules.records import GradeChange, Snapshot, WarningRecord
from rules.state import EnterpriseState

#: the sorted sets of enterprises waiting to be rechecked (see streams/store/__init__.py)
RecheckQueue = Literal["timer", "nudge", "related"]


@dataclass
class Commit:
    """The effect of one batch's events on one enterprise, ready to write."""

    uscc: str
    event_ids: list[str]
    state: EnterpriseState
    warnings: list[WarningRecord] = field(default_factory=list)
    grade_changes: list[GradeChange] = field(default_factory=list)
    #: the events applied, as the journal keeps them
    journal: list[list[Any]] = field(default_factory=list)
    #: timeline snapshots to write, replacing what is stored from the first one's time
    #: (or from `replace_from`, when a late event rebuilt the timeline)
    timeline: list[Snapshot] = field(default_factory=list)
    replace_from: str | None = None
    #: for the trainer (rules/learning/): labels resolved, features of samples taken
    labels: list[dict[str, Any]] = field(default_factory=list)
    observed: list[dict[str, float]] = field(default_factory=list)
    #: related firms to recheck -> the instant (UTC ISO) to rebuild their timeline from
    related_rechecks: dict[str, str] = field(default_factory=dict)
    #: the version of the state this commit was computed from (`Loaded.versions`): if
    #: another commit changed it since, this one takes no effect (the caller reloads
    #: and retries); None: no such check
    state_was: str | None = None
    #: the day (ISO) its next model sample's label resolves, to index for the day's
    #: sweep (streams/store/labels.py), and the day it was before, when the batch
    #: changed it
    label_day: str | None = None
    label_day_before: str | None = None
    #: a day's sweep's, with no evaluation: its labels and its state alone are written
    #: (lua/sweep.lua), everything else of the firm being as it was
    swept: bool = False

    def learning_record(self) -> bytes:
        """The entry of the labels log, or b'' when there is nothing to learn."""
        if not self.labels and not self.observed:
            return b""
        return dumpb({"uscc": self.uscc, "labels": self.labels, "observed": self.observed})


@dataclass
class Loaded:
    states: dict[str, EnterpriseState | None]
    #: per USCC, the batch's event ids applied before
    seen: dict[str, set[str]]
    ruleset_version: str | None
    #: USCC -> the regulator's grade override in force, if any
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: USCC -> warning_id -> its latest disposition (rules/dispositions.py), if any
    dispositions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: USCC -> plan_id -> the result entered for its visit (rules/entered_results.py)
    entered: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the version of the model snapshot published (rules/learning/trainer.py)
    model_version: str | None = None
    #: USCC -> the SHA-1 (hex) of its state as loaded (of b'' for none): its commit
    #: takes effect only over that same state (`Commit.state_was`)
    versions: dict[str, str] = field(default_factory=dict)
    #: states taken as this worker committed them (streams/store/state_cache.py), and
    #: states decoded
    reused: int = 0
    decoded: int = 0
