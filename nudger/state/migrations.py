"""Numbered schema migrations, applied in order on open and recorded by sqlite-utils.

A released migration is never edited: change the schema by adding ``m00N_what_changed``.

Tables are reached with ``db.table(name)``, not ``db[name]``: for a name that is not a view
both return the same ``Table``, but ``db[name]`` is typed ``Table | View`` (a view has no
``create``/``add_column``/``create_index``), so only ``db.table`` type-checks.
"""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("nudger")


@migrations()
def m001_initial(db: Database) -> None:
    """The first schema: handoffs, their event log, inbound dedupe, outbox, quarantine."""
    db.table("handoffs").create(
        {
            "id": int,
            "title": str,
            "status": str,
            "prev_status": str,
            "owner": str,
            "requester": str,
            "team": str,
            "due": str,
            "priority": str,
            "rush": int,
            "created": str,
            "updated": str,
            "watchers": str,  # JSON list of emails
            "note": str,
            "forwarded": str,  # JSON of the customer's original email
            "root_message_id": str,
            "blocked_reason": str,
            "source_raw": bytes,  # the forward as received: attachments for a later owner
        },
        pk="id",
        not_null={"title", "status", "requester", "created"},
    )
    db.table("handoffs").create_index(["status"])
    db.table("events").create(
        {
            "id": int,
            "handoff_id": int,
            "at": str,
            "kind": str,
            "actor": str,
            "data": str,  # JSON
        },
        pk="id",
        foreign_keys=[("handoff_id", "handoffs", "id")],
        not_null={"handoff_id", "at", "kind"},
    )
    db.table("events").create_index(["handoff_id"])
    db.table("inbound").create(
        {
            "id": int,
            "dedupe_key": str,
            "message_id": str,
            "received": str,
            "sender": str,
            "subject": str,
            "kind": str,
            "authorised": int,
            "reasons": str,  # JSON list
            "handoff_id": int,
            "outcome": str,
            "deliveries": int,
        },
        pk="id",
        not_null={"dedupe_key", "received"},
        defaults={"deliveries": 1},
    )
    db.table("inbound").create_index(["dedupe_key"], unique=True)
    db.table("outbox").create(
        {
            "id": int,
            "dedupe_key": str,
            "kind": str,
            "handoff_id": int,
            "recipient": str,
            "message_id": str,
            "subject": str,
            "raw": bytes,
            "status": str,
            "send_after": str,  # ISO 8601 UTC
            "attempts": int,
            "created": str,
            "sent": str,
            "last_error": str,
        },
        pk="id",
        not_null={"dedupe_key", "kind", "recipient", "status", "send_after"},
        defaults={"attempts": 0},
    )
    db.table("outbox").create_index(["dedupe_key"], unique=True)
    db.table("outbox").create_index(["status", "send_after"])
    db.table("outbox").create_index(["message_id"])  # a reply's In-Reply-To finds its handoff
    db.table("quarantine").create(
        {
            "id": int,
            "at": str,
            "reason": str,
            "detail": str,
            "source_key": str,
            "raw": bytes,
            "status": str,
        },
        pk="id",
    )


@migrations()
def m002_people_and_runs(db: Database) -> None:
    """People's own choices (digest by reply), team round-robin cursors and the run log."""
    db.table("people").create(
        {"email": str, "digest": str, "updated": str},
        pk="email",
    )
    db.table("team_cursors").create({"team": str, "position": int}, pk="team")
    db.table("runs").create(
        {"id": int, "started": str, "finished": str, "now": str, "summary": str},
        pk="id",
    )


@migrations()
def m003_inbound_body_hash(db: Database) -> None:
    """A body hash beside the Message-ID: a reused Message-ID on a different message is not a
    redelivery, and must not be dropped as one."""
    db.table("inbound").add_column("body_hash", str)


# Events whose state a backfill can read from their own data.
_STATUS_AFTER = {"created": "open", "acknowledged": "acknowledged", "done": "done", "blocked": "blocked",
                 "reassigned": "open", "declined": "open", "cancelled": "cancelled", "reopened": "open"}
_WORDS_KEYS = ("args", "note", "reason", "words", "text")


@migrations()
def m004_events_are_history(db: Database) -> None:
    """Every event records the state after it (status, owner, team, due, priority, rush), the
    person's own words in one field, and when a run wrote it beside when it happened.

    Older events are backfilled by replaying each handoff's log: the first value of a field
    is read back from the first change to it ("from"), the rest follows event by event.
    Priority, team and rush changes were not logged before, so old events carry today's.
    """
    import json

    for column, kind in (("words", str), ("recorded", str), ("status", str), ("owner", str),
                         ("team", str), ("due", str), ("priority", str), ("rush", int)):
        db.table("events").add_column(column, kind)
    conn = db.conn
    handoffs = conn.execute(
        "select id, owner, team, due, priority, rush from handoffs").fetchall()
    for hid, owner, team, due, priority, rush in handoffs:
        events = conn.execute(
            "select id, at, kind, data from events where handoff_id = ? order by id", [hid]).fetchall()
        decoded = [(eid, at, kind, json.loads(data or "{}")) for eid, at, kind, data in events]
        first_due = next((d.get("from") for _, _, k, d in decoded if k == "due_changed"), due)
        first_owner = next((d.get("from") for _, _, k, d in decoded
                            if k in ("owner_assigned", "reassigned", "declined")), owner)
        state = {"status": "open", "owner": first_owner, "due": first_due}
        before_block = "open"
        for eid, at, kind, data in decoded:
            if kind == "blocked":
                before_block = state["status"]
            if kind == "unblocked":
                state["status"] = before_block
            elif kind in _STATUS_AFTER:
                state["status"] = _STATUS_AFTER[kind]
            if kind in ("owner_assigned", "reassigned", "declined"):
                state["owner"] = data.get("to")
            if kind == "due_changed":
                state["due"] = data.get("to")
            words = next((str(data[k]) for k in _WORDS_KEYS if data.get(k)), "")
            conn.execute(
                "update events set words = ?, recorded = ?, status = ?, owner = ?, team = ?,"
                " due = ?, priority = ?, rush = ? where id = ?",
                [words, at, state["status"], state["owner"], team, state["due"], priority,
                 int(bool(rush)), eid])
    db.table("events").create_index(["handoff_id", "at"])


@migrations()
def m005_quarantine_release_and_people_indexes(db: Database) -> None:
    """A quarantined message keeps the dedupe key it was held under, so releasing it lets it
    be read again; handoffs are found by owner and requester without a scan."""
    db.table("quarantine").add_column("dedupe_key", str)  # older rows: derived again from the message
    db.table("handoffs").create_index(["owner", "status"])
    db.table("handoffs").create_index(["requester", "status"])


@migrations()
def m006_schedule(db: Database) -> None:
    """When the schedule must next look at each handoff, person and team: an idle run reads
    one index entry, not every handoff. Every open handoff is looked at on the first run."""
    db.table("schedule").create({"subject": str, "next_at": str}, pk="subject", not_null={"next_at"})
    db.table("schedule").create_index(["next_at"])
    db.table("settings").create({"key": str, "value": str}, pk="key")
    db.table("events").create_index(["owner", "at"])
    db.conn.execute(
        "insert into schedule (subject, next_at) select 'h:' || id, '' from handoffs"
        " where status in ('open', 'acknowledged', 'blocked')"
    )


@migrations()
def m007_due_asked(db: Database) -> None:
    """Whether the requester asked for the due date (it can then be a rush for the team that
    takes the handoff later), rather than it being the team's default turnaround. Older
    handoffs: a rush one certainly was asked for; for the rest it is unknown, so no."""
    db.table("handoffs").add_column("due_asked", int)
    db.conn.execute("update handoffs set due_asked = rush")


@migrations()
def m013_history_indexes(db: Database) -> None:
    """Costs that must not grow with history: a reply finds its handoff by root Message-ID
    through an index (it was a scan of every handoff), and the sent mail whose bytes are past
    their keep-by date is found without reading the rest of the outbox."""
    db.table("handoffs").create_index(["root_message_id"])
    db.conn.execute("create index if not exists idx_outbox_sent_raw on outbox (sent) where raw is not null")


@migrations()
def m011_hardening(db: Database) -> None:
    """Attempts: a message is counted before it is read, so one that kills or stalls runs is
    quarantined after a few instead of blocking the mail behind it forever. Outgoing mail is
    counted by recipient and time (per-recipient and loop limits) without a scan."""
    db.table("attempts").create({"dedupe_key": str, "count": int, "first_at": str, "last_at": str},
                                pk="dedupe_key")
    db.table("outbox").create_index(["recipient", "created"])


@migrations()
def m008_schedule_indexes(db: Database) -> None:
    """Indexes for the schedule at scale: a team's events by time (a team digest reads the
    team's week, not every handoff), and the schedule's due rows in the order they are read
    (next_at, then subject: no sort of the due rows on every batch)."""
    db.table("events").create_index(["team", "at", "handoff_id"], if_not_exists=True)
    db.conn.execute("drop index if exists idx_schedule_next_at")
    db.table("schedule").create_index(["next_at", "subject"], if_not_exists=True)


@migrations()
def m010_outbox_delivery(db: Database) -> None:
    """When an email failed for good and whether the address itself is bad (a 5xx for the
    recipient, a hard bounce): ``status`` and ``doctor`` list hard-bouncing addresses from a
    small partial index rather than by scanning the outbox."""
    db.table("outbox").add_column("failed_at", str)
    db.table("outbox").add_column("hard_failure", int)
    db.conn.execute("create index if not exists outbox_hard_failures on outbox (recipient, failed_at)"
                    " where hard_failure = 1")
    db.table("inbound").create_index(["sender", "received"])  # mail from an address clears it


@migrations()
def m014_digest_history(db: Database) -> None:
    """The digest a person had before their latest choice, and since when: a slot that came
    before the choice is owed as that digest, whether or not a run saw it in time."""
    db.table("people").add_column("previous_digest", str)
    db.table("people").add_column("previous_since", str)


@migrations()
def m012_gaps(db: Database) -> None:
    """The owners' new-handoff notices by handoff: an ack reminder counts from when the
    owner's notice reached them, read for each batch of the schedule without a scan. The
    requester's display name from their forward: one who is not in ``[[people]]`` is still
    called by it (older handoffs have none: their requester is shown by address)."""
    db.table("handoffs").add_column("requester_name", str)
    db.conn.execute("create index if not exists outbox_new_handoffs on outbox (handoff_id, created)"
                    " where kind = 'new_handoff'")


@migrations()
def m015_bytes_apart(db: Database) -> None:
    """An email's bytes and a forward's own bytes in tables of their own, keyed by their row's
    id: SQLite rewrites a whole row, overflow pages and all, on any update, so marking a 20 KB
    email 'sending' and then 'sent', or a handoff with a PDF confirmed, copied (and, with
    secure_delete, zeroed) every byte of it. ``has_bytes`` marks the sent mail whose bytes are
    still kept, so retention finds them through a small partial index."""
    conn = db.conn
    conn.execute("create table outbox_bytes (id integer primary key, raw blob not null)")
    conn.execute("insert into outbox_bytes (id, raw) select id, raw from outbox where raw is not null")
    conn.execute("alter table outbox add column has_bytes integer not null default 0")
    conn.execute("update outbox set has_bytes = 1 where raw is not null")
    conn.execute("drop index if exists idx_outbox_sent_raw")
    conn.execute("alter table outbox drop column raw")
    # (status, sent): retention asks for sent mail sent before a day; bounced and dead mail
    # keep their bytes (to be resent) and must not be walked by every run's check.
    conn.execute("create index outbox_sent_with_bytes on outbox (status, sent) where has_bytes = 1")
    conn.execute("create table handoff_sources (id integer primary key, raw blob not null)")
    conn.execute("insert into handoff_sources (id, raw) select id, source_raw from handoffs"
                 " where source_raw is not null")
    conn.execute("alter table handoffs drop column source_raw")


@migrations()
def m016_outbox_by_handoff(db: Database) -> None:
    """A handoff's emails by its number: an escalation lists the reminders and alerts already
    sent about it, and ``nudger show`` its emails; both read the whole outbox without this."""
    db.conn.execute("create index if not exists outbox_handoff on outbox (handoff_id, id)")
