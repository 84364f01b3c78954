"""The schedule's bookkeeping: each subject's next look, settings, and people's digest choices.

One row per subject ("h:<id>", "p:<email>", "t:<team>") with the next time the schedule must
look at it. A change to a handoff makes it due at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nudger.state.db import Rows, iso


@dataclass(frozen=True)
class DigestChoice:
    """A person's digest chosen by reply (``since`` then), and the one before it (None: the config's)."""

    digest: str
    since: datetime | None
    previous: str | None = None
    previous_since: datetime | None = None


class ScheduleRows(Rows):

    def digest_choice(self, email: str) -> str | None:
        row = self._one("select digest from people where email = ?", [email.lower()])
        return row["digest"] if row else None

    def set_digest_choice(self, email: str, digest: str, at: datetime) -> None:
        """The new choice, keeping the one it replaces (and since when that held): slots
        before ``at`` are still owed as the old digest."""
        self.db.conn.execute(
            "insert into people (email, digest, updated) values (?, ?, ?) on conflict(email)"
            " do update set previous_digest = people.digest, previous_since = people.updated,"
            " digest = excluded.digest, updated = excluded.updated",
            [email.lower(), digest, iso(at)],
        )
        self.touch(f"p:{email.lower()}")

    def digest_choices(self) -> dict[str, str]:
        """Choices people made by reply; the latest reply wins over the config."""
        return {r["email"]: r["digest"] for r in self._rows("select email, digest from people")}

    def digest_chosen_at(self, email: str) -> datetime | None:
        """When the person last chose their digest by reply."""
        row = self.db.conn.execute("select updated from people where email = ?", [email.lower()]).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None


    def digest_choices_for(self, emails: list[str]) -> dict[str, DigestChoice]:
        """The digest each of these people chose by reply, when, and what it replaced (a
        batch of the schedule)."""
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        found: dict[str, DigestChoice] = {}
        for i in range(0, len(emails), 500):
            chunk = emails[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for email, digest, updated, previous, previous_since in self.db.conn.execute(
                    f"select email, digest, updated, previous_digest, previous_since from people"
                    f" where email in ({marks})", chunk):
                found[email] = DigestChoice(digest, when(updated), previous, when(previous_since))
        return found

    def touch(self, *subjects: str) -> None:
        """These subjects are due for a look at once (one statement for all of them)."""
        values = ", ".join("(?, '')" for _ in subjects)
        self.db.conn.execute(
            f"insert into schedule (subject, next_at) values {values} on conflict(subject)"
            " do update set next_at = ''", list(subjects))

    def due_subjects(self, now: datetime, limit: int = 1000) -> list[str]:
        rows = self.db.conn.execute(
            "select subject from schedule where next_at <= ? order by next_at, subject limit ?",
            [iso(now), limit]).fetchall()
        return [r[0] for r in rows]

    def set_next(self, subject: str, at: datetime | None) -> None:
        if at is None:
            self.db.conn.execute("delete from schedule where subject = ?", [subject])
        else:
            self.db.conn.execute(
                "insert into schedule (subject, next_at) values (?, ?) on conflict(subject)"
                " do update set next_at = excluded.next_at", [subject, iso(at)])

    def set_next_many(self, nexts: list[tuple[str, datetime | None]]) -> None:
        """``set_next`` for a batch: rows with nothing ahead are deleted, the rest moved on."""
        self.db.conn.executemany("delete from schedule where subject = ?", [[s] for s, at in nexts if at is None])
        self.db.conn.executemany(
            "insert into schedule (subject, next_at) values (?, ?) on conflict(subject)"
            " do update set next_at = excluded.next_at", [[s, iso(at)] for s, at in nexts if at is not None])

    def schedule_rows(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.db.conn.execute("select subject, next_at from schedule order by next_at")]

    def reset_schedule(self, subjects: list[str]) -> None:
        """After a config edit: look at everything again (sent mail stays sent: dedupe keys)."""
        with self.transaction():
            self.db.conn.execute("update schedule set next_at = ''")
            self.db.conn.executemany(
                "insert into schedule (subject, next_at) values (?, '') on conflict(subject)"
                " do update set next_at = ''", [[s] for s in subjects])

    def setting(self, key: str) -> str | None:
        row = self.db.conn.execute("select value from settings where key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.conn.execute("insert into settings (key, value) values (?, ?) on conflict(key)"
                             " do update set value = excluded.value", [key, value])
