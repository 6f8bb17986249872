"""The only package that talks to Redis.

Keys (hash tags keep one enterprise's keys, one person's or one address's in one
Cluster slot; a person's or address's tag is its bucket's):
  cw:{USCC}:state      the enterprise's state, packed: msgpack compressed with zstd over a
                       trained dictionary (rules/compression.py; a state written by an
                       earlier version, zlib or JSON, still loads)
  cw:{USCC}:seen       the idempotency guard: an 8-byte digest and the day of each event
                       applied in the last days before its newest, in one string
                       (streams/store/digests.py); older ones are looked up in the journal.
                       Kept in front of the state, in the same value, with the firm's
                       index memberships (lua/lib/index.lua); this key only holds the
                       guard of a state stored before (a set of the event ids)
  cw:{USCC}:warnings   its warning records (raised and closed), newest first
  cw:{USCC}:journal    every event applied to it, [occurred_at, type, event_id, payload],
                       in compressed chunks (streams/store/journal.py): read only to
                       rebuild the timeline after a late event, or to check a very late one
                       (and its tail, to merge over, for a firm the worker does not remember)
  cw:{USCC}:timeline   its grade snapshots by event time (epoch seconds): history, as-of;
                       each a packed list (rules/timeline.py, `pack_snapshot`)
  cw:{p:N:B}:firms     bucket B of N of the person index: each person's (pseudonymous
                       key) active firms, USCC -> "roles|instant", packed records in
                       one field per person (streams/store/members.py); N, the count
                       of buckets, is kept in cw:related-buckets
  cw:{p:N:B}:PKEY:listings
                       the person's dishonest listings in force, removals and events
                       recorded with the firms each fanned out to (lua/person_listing.lua)
  cw:{a:N:B}:firms     the same buckets for addresses: normalized address (its key) ->
                       {USCC: "day the firm arrived|instant"}
  cw:address-allowlist approved cluster addresses (normalized text)
  cw:timers            USCC -> when its rules must look again (epoch seconds)
  cw:nudges            USCC -> re-evaluate at once, as of that time (0: its own clock);
                       an operator's action (allow-list, override, a warning's
                       disposition, an inspection result entered), never moved by a
                       commit
  cw:label-days, cw:label-firms:DAY
                       the days label expiries are due (day -> its start, epoch s) and
                       the USCCs whose model samples' labels resolve that day (a hash's
                       fields; cw:label-day:DAY, the set written before, still read):
                       swept in bulk per day (streams/store/labels.py), not a timer per
                       sample
  cw:related-rechecks  USCC -> rebuild its timeline from that time (epoch seconds): a
                       related party's links changed; written by the commit that changed
                       them, so a worker that dies before handing them on loses none
  cw:overrides         USCC -> a regulator's grade override in force (JSON)
  cw:override-audit    every override set or lifted: who, what, why, when
  cw:dispositions      USCC -> {warning_id: its latest disposition as the rules read it}
                       (rules/dispositions.py), read by the worker with the states
  cw:entered-results   USCC -> {plan_id: the inspection result entered for it, as the
                       rules read it} (rules/entered_results.py), read by the worker
                       with the states
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
                       what lists, search, blind spots and inspection draws filter on.
                       JSON with one-letter keys and no empty field (`stored_entry`);
                       entries in full, as written before, still read
  cw:directory-changes the USCCs whose directory entry a commit added or gave another
                       name, address or district, capped (10,000): the API's search
                       indexes follow it (streams/store/directory_changes.py)
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
  cw:ix:*, cw:applied:MINUTE
                       the console's indexes: firms by district, industry and grade,
                       blind spots, open warnings by age, daily counts, events applied
                       (streams/store/indexes.py), kept by the commit script (a firm's
                       memberships are held in front of its state; cw:{USCC}:indexed,
                       a hash of them as kept before, is read and dropped by its next
                       commit)

Batch reads (MGET of states) and the global keys span slots: a Redis Cluster
deployment needs them split by slot (see the scale-out notes).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from streams.settings import DEFAULT_STATE_CACHE, StoreSettings
from streams.store import members
from streams.store.accounts import AccountStore
from streams.store.directory import DirectoryStore
from streams.store.directory_changes import DirectoryChangesStore
from streams.store.errors import StoreError, StoreUnavailable, guard_errors
from streams.store.handling import HandlingStore
from streams.store.indexes import IndexStore
from streams.store.inspections import InspectionStore
from streams.store.live import LiveStore
from streams.store.models import ModelStore
from streams.store.outbox import OUTBOX_GROUP, OutboxStore
from streams.store.reads import ReadStore
from streams.store.related_io import LinkUpdate
from streams.store.related_upgrade import RelatedUpgradeStore
from streams.store.rulesets import RulesetStore
from streams.store.state_io import WorkerStore
from streams.store.webhooks import WebhookStore
from streams.store.worker_records import Commit, Loaded

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
    RelatedUpgradeStore,
    OutboxStore,
    ReadStore,
    ModelStore,
    DirectoryStore,
    DirectoryChangesStore,
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
        return cls(
            client,
            settings.key_prefix,
            settings.stream_maxlen,
            settings.related_buckets,
            settings.state_cache,
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        prefix: str = "cw",
        stream_maxlen: int = 100_000,
        state_cache: int = DEFAULT_STATE_CACHE,
    ) -> Store:
        return cls(
            aioredis.from_url(url), prefix, stream_maxlen, members.DEFAULT_BUCKETS, state_cache
        )
