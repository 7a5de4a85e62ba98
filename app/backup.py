"""Backups: a consistent copy of the database in one file, timestamped (`flask db backup`).

SQLite: ``VACUUM INTO`` writes a consistent, compacted copy while the app keeps running (STACK
"SQLite"). PostgreSQL: ``pg_dump --format=custom`` (restore with ``pg_restore``). Either way
the file is written next to nothing else and is safe to copy off the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db


class BackupError(Exception):
    """The backup could not be written; nothing was left half-written."""


def backup_path(directory: Path, now: datetime, suffix: str) -> Path:
    return directory / f"homestretch-{now:%Y%m%d-%H%M%S}{suffix}"


def backup_database(directory: Path, now: datetime) -> Path:
    """Write a timestamped backup of the app's database into `directory` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    engine = db.engine
    if engine.dialect.name == "sqlite":
        target = backup_path(directory, now, ".sqlite3")
        if target.exists():
            raise BackupError(f"{target} exists already.")
        # VACUUM runs outside any transaction: on the driver's own connection, which this app
        # keeps in autocommit (app.db.configure_sqlite).
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("VACUUM INTO ?", (str(target),))
        finally:
            raw.close()
        return target
    if engine.dialect.name == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise BackupError(
                "pg_dump is not installed (Debian: apt-get install postgresql-client)."
            )
        target = backup_path(directory, now, ".pgdump")
        url = engine.url.set(drivername="postgresql")
        env = {**os.environ, "PGPASSWORD": url.password or ""}
        result = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                f"--file={target}",
                url.set(password=None).render_as_string(hide_password=False),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            target.unlink(missing_ok=True)
            raise BackupError(result.stderr.strip() or "pg_dump failed.")
        return target
    raise BackupError(f"No backup method for {engine.dialect.name}.")


def table_counts() -> dict[str, int]:
    """Row counts of every table: what a restore test compares."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }
