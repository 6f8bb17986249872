"""(filled in by the webhooks work)"""

from __future__ import annotations

from rules.store.base import StoreBase


class WebhookStore(StoreBase):
    pass
