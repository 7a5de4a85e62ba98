"""Backups: `flask db backup` writes a consistent copy that restores to the same data."""

from __future__ import annotations

import shutil
import subprocess

import sqlalchemy as sa
from click.testing import CliRunner

from app import create_app
from app.backup import backup_database, table_counts
from app.db import utcnow
from app.extensions import db
from tests.conftest import POSTGRES_ADMIN_URL, skip_or_fail, throwaway_postgres


def test_a_backup_restores_to_the_same_rows(app, make_patient, tmp_path):
    make_patient(start_days_ago=5)
    db.session.commit()
    stored = table_counts()
    assert stored["patients"] == 1 and stored["programs"] == 1

    path = backup_database(tmp_path, utcnow())

    if db.engine.dialect.name == "sqlite":
        restored_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        shutil.copyfile(path, tmp_path / "restored.sqlite3")
        assert restored_counts(restored_url) == stored
        return
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        skip_or_fail("pg_restore is not installed")
    with throwaway_postgres(POSTGRES_ADMIN_URL) as url:
        plain = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
        subprocess.run([pg_restore, "--no-owner", f"--dbname={plain}", str(path)], check=True)
        assert restored_counts(url) == stored


def restored_counts(url: str) -> dict[str, int]:
    restored = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "restore-test"})
    with restored.app_context():
        counts = table_counts()
        # Give the session's connection back before closing the pool: a connection still
        # checked out when the pool is disposed is never closed, and its garbage collection
        # later warns (ResourceWarning) in whichever test happens to be running then.
        db.session.remove()
        db.engine.dispose()
    return counts


def test_the_backup_command_names_its_file(app, tmp_path):
    result = CliRunner().invoke(
        app.cli, ["db", "backup", "--to", str(tmp_path)], obj=None, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output
    assert len(list(tmp_path.iterdir())) == 1
