"""The request owns the transaction: one commit path for every page and API call.

Views and API functions never commit; services flush. After the response is built (so nothing
it renders has been expired by a commit), this module commits when the status is below 400 and
rolls back otherwise. Writes a read makes on the side — audit events, the login session's
last-seen time, a one-time view — are queued during the request and written here, in a short
write transaction that takes SQLite's write lock up front, so an audited read never fails
because a concurrent request was writing (STACK "SQLite"). Work that must wait for the commit
(emails, alert notifications) runs after it.

Commands commit themselves (they are batches); ``after_commit`` works for them too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context, request
from sqlalchemy.orm import Session as OrmSession

from app.db import set_sqlite_immediate, sqlite_immediate
from app.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_AFTER_COMMIT = "after_commit_callbacks"


def defer_write(write: Callable[[], Any]) -> None:
    """Queue a side write of this request (an audit row, a touch); outside a request, do it now.

    Queued writes are applied in the commit path whatever the request's own outcome, unless
    the request fails with a server error.
    """
    if has_request_context():
        g.setdefault("deferred_writes", []).append(write)
    else:
        write()


def after_commit(callback: Callable[[], Any]) -> None:
    """Run ``callback`` once the current transaction has committed (never if it rolls back)."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@sa.event.listens_for(OrmSession, "after_commit")
def _run_after_commit(session: OrmSession) -> None:
    callbacks = session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        callback()


@sa.event.listens_for(OrmSession, "after_rollback")
def _drop_after_commit(session: OrmSession) -> None:
    # A rolled-back transaction sends nothing (the email would point at data that is not there).
    if not session.in_transaction():
        session.info.pop(_AFTER_COMMIT, None)


def commit_request(response: Response) -> Response:
    """Commit the request's work below 400, roll it back otherwise; then write the side writes."""
    writes = g.pop("deferred_writes", [])
    if response.status_code >= 400 or request.method in SAFE_METHODS:
        # Nothing to keep, or a read: end that transaction; side writes start a fresh one.
        db.session.rollback()
    if writes and response.status_code < 500:
        with sqlite_immediate():
            for write in writes:
                write()
    db.session.commit()
    run_after_request_work()
    return response


def run_after_request_work() -> None:
    """Send what waited for the commit: alert emails at once (the sender commits its marks)."""
    if g.pop("alerts_pending", False):
        from app.alerts.notify import send_at_once
        from app.db import utcnow

        with sqlite_immediate():
            send_at_once(utcnow())
            db.session.commit()


def init_app(app: Flask) -> None:
    @app.before_request
    def _transaction_mode() -> None:
        # Requests that change data take SQLite's write lock up front (STACK "SQLite").
        set_sqlite_immediate(request.method not in SAFE_METHODS)

    @app.teardown_request
    def _reset_transaction_mode(_exc: BaseException | None) -> None:
        set_sqlite_immediate(False)

    @app.after_request
    def _commit(response: Response) -> Response:
        return commit_request(response)
