"""The only package that talks to Redis.

Keys (hash tags keep one enterprise's keys, one person's or one address's in one
Cluster slot):
  cw:{USCC}:state      the enterprise's state, packed: msgpack compressed with zstd over a
                       trained dictionary (rules/compression.py; a state written by an
                       earlier version, zlib or JSON, still loads)
  cw:{USCC}:seen       the idempotency guard: an 8-byte digest and the day of each event
                       applied in the last days before its newest, in one string
                       (streams/store/digests.py); older ones are looked up in the journal
  cw:{USCC}:warnings   its warning records (raised and closed), newest first
  cw:{USCC}:journal    every event applied to it, [occurred_at, type, event_id, payload],
                       in compressed chunks (streams/store/journal.py): read only to
                       rebuild the timeline after a late event, or to check a very late one
  cw:{USCC}:timeline   its grade snapshots by event time (epoch seconds): history, as-of;
                       each a packed list (rules/timeline.py, `pack_snapshot`)
  cw:{p:PKEY}:firms    a person (pseudonymous key) -> {USCC: roles} of active firms
  cw:{p:PKEY}:seen, :listings, :removed
                       the person's dishonest listings (case -> event id)
  cw:{a:AKEY}:firms    a normalized address -> {USCC: day the firm arrived}
  cw:address-allowlist approved cluster addresses (normalized text)
  cw:timers            USCC -> when its rules must look again (epoch seconds)
  cw:nudges            USCC -> re-evaluate at once, as of that time (0: its own clock);
                       an operator's action (allow-list, override, a warning's
                       disposition), never moved by a commit
  cw:label-days, cw:label-day:DAY
                       the days label expiries are due (day -> its start, epoch s) and
                       the USCCs whose model samples' labels resolve that day: swept in
                       bulk per day (streams/store/labels.py), not a timer per sample
  cw:related-rechecks  USCC -> rebuild its timeline from that time (epoch seconds): a
                       related party's links changed; written by the commit that changed
                       them, so a worker that dies before handing them on loses none
  cw:overrides         USCC -> a regulator's grade override in force (JSON)
  cw:override-audit    every override set or lifted: who, what, why, when
  cw:dispositions      USCC -> {warning_id: its latest disposition as the rules read it}
                       (rules/dispositions.py), read by the worker with the states
  cw:ruleset           the rule set published to the workers {version, body}
  cw:ruleset-candidates, :ruleset-backtests, :ruleset-history, cw:rules-audit
                       candidate rule sets, their backtests over the journals, every
                       rule set published and the audit (streams/store/rulesets.py)
  cw:learning          the labels log: each commit's labels and sampled features for the
                       trainer (an outbox stream too: relayed to the labels topic)
  cw:model             the model snapshot published {version, body (pickle), meta (JSON)}
  cw:model-events      the models' changes for operators: suspended, restored, drift
  cw:warnings, cw:grade-changes, cw:dead-letters
                       output streams: the API tails them and the relay publishes them
                       to Kafka (a transactional outbox: written in the same atomic step
                       as the state, so no output is lost when a worker dies)
  cw:directory         USCC -> directory entry (rules/directory.py): name, address,
                       district, tags, grade, open rules, last inspected and penalised;
                       what lists, search, blind spots and inspection draws filter on
  cw:grade-counts      grade -> enterprises at it (the directory's, for /metrics)
  cw:accounts, cw:api-keys
                       accounts (JSON) and API keys by SHA-256 (the key is never stored)
  cw:rate:KEY          a sliding-window log of a key's admitted requests (times, us;
                       cw:rate:anon:ADDRESS for callers without a key; expires)
  cw:live:ACCOUNT      an account's live subscriptions: id -> lease expiry (ms); a
                       console session's tabs are SESSION/TAB ids, one slot between them
  cw:access-log        every data access: who, what, when, how many records
  cw:{USCC}:handling, :handling-log, cw:warning-audit, cw:disposition-counts
                       the warning workbench: assignments, dispositions, snoozes and
                       their audit (streams/store/handling.py)
  cw:{USCC}:indexed, cw:ix:*, cw:applied:MINUTE
                       the console's indexes: firms by district, industry and grade,
                       blind spots, open warnings by age, daily counts, events applied
                       (streams/store/indexes.py), kept by the commit script

Batch reads (MGET of states) and the global keys span slots: a Redis Cluster
deployment needs them split by slot (see the scale-out notes).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from streams.settings import StoreSettings
from streams.store.accounts import AccountStore
from streams.store.directory import DirectoryStore
from streams.store.errors import StoreError, StoreUnavailable, guard_errors
from streams.store.handling import HandlingStore
from streams.store.indexes import IndexStore
from streams.store.inspections import InspectionStore
from streams.store.live import LiveStore
from streams.store.models import ModelStore
from streams.store.outbox import OUTBOX_GROUP, OutboxStore
from streams.store.reads import ReadStore
from streams.store.rulesets import RulesetStore
from streams.store.state_io import Commit, LinkUpdate, Loaded, WorkerStore
from streams.store.webhooks import WebhookStore

__all__ = [
    "OUTBOX_GROUP",
    "Commit",
    "LinkUpdate",
    "Loaded",
    "Store",
    "StoreError",
    "StoreUnavailable",
]


@guard_errors  # every call raises StoreError / StoreUnavailable, never Redis' own errors
class Store(
    WorkerStore,
    OutboxStore,
    ReadStore,
    ModelStore,
    DirectoryStore,
    AccountStore,
    WebhookStore,
    InspectionStore,
    LiveStore,
    HandlingStore,
    RulesetStore,
    IndexStore,
):
    @classmethod
    def from_settings(cls, settings: StoreSettings) -> Store:
        client = aioredis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_socket_timeout_s,
            socket_connect_timeout=settings.redis_connect_timeout_s,
        )
        return cls(client, settings.key_prefix, settings.stream_maxlen)

    @classmethod
    def from_url(cls, url: str, prefix: str = "cw", stream_maxlen: int = 100_000) -> Store:
        return cls(aioredis.from_url(url), prefix, stream_maxlen)
