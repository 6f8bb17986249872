"""(filled in by the inspections work)"""

from __future__ import annotations

from rules.store.base import StoreBase


class InspectionStore(StoreBase):
    pass
