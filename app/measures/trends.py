"""The function trend the alert rules read, loaded for many episodes at once (CLINICAL §5)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from app.clinical.timeline import FunctionFact
from app.extensions import db
from app.measures.catalog import available_instruments
from app.measures.instruments import Domain, Score, change
from app.patient.models import OutcomeResponse
from app.programs.models import EpisodeOfCare


def function_trends(episode_ids: Iterable[int]) -> dict[int, FunctionFact]:
    """Return, per episode, the function measure trend the rules read, in one query.

    Of several function measures the one that met its MIC wins, else the first by name (PSFS).
    """
    ids = list(dict.fromkeys(episode_ids))
    if not ids:
        return {}
    instruments = available_instruments()
    slugs = [s for s, i in instruments.items() if i.domain is Domain.FUNCTION and i.mic]
    if not slugs:
        return {}
    rows = db.session.execute(
        sa.select(
            OutcomeResponse.episode_id,
            OutcomeResponse.instrument,
            OutcomeResponse.local_date,
            OutcomeResponse.result,
        )
        .where(OutcomeResponse.episode_id.in_(ids), OutcomeResponse.instrument.in_(slugs))
        .order_by(OutcomeResponse.recorded_at, OutcomeResponse.id)
    ).all()
    grouped: dict[tuple[int, str], list[tuple[date, Score]]] = defaultdict(list)
    for row in rows:
        result = Score.from_dict(row.result)
        grouped[(row.episode_id, row.instrument)].append((row.local_date, result))
    trends: dict[int, FunctionFact] = {}
    for (episode_id, slug), dated in sorted(grouped.items()):
        if len(dated) < 2:
            continue
        instrument = instruments[slug]
        assert instrument.mic is not None
        found = change(instrument, dated[0][1], dated[-1][1])
        trend = FunctionFact(
            slug,
            found.first,
            found.latest,
            dated[0][0],
            dated[-1][0],
            len(dated),
            instrument.mic.points,
            bool(found.mic_met),
        )
        if episode_id not in trends or (trend.mic_met and not trends[episode_id].mic_met):
            trends[episode_id] = trend
    return trends


CASELOAD_INSTRUMENT = "psfs"  # issue 13: the caseload row shows the latest PSFS and its change


def caseload_function_columns(patient_id: Any) -> tuple[Any, list[Any]]:
    """Outer-join the current episode's first and latest PSFS onto a caseload query.

    Returns a function that joins them to a select on ``patient_id`` and the columns to select,
    so the caseload stays one query for its rows whatever their number (DESIGN §5).
    """
    ranked = (
        sa.select(
            OutcomeResponse.patient_id,
            OutcomeResponse.result,
            OutcomeResponse.local_date,
            sa.func.row_number()
            .over(
                partition_by=OutcomeResponse.episode_id,
                order_by=(OutcomeResponse.recorded_at.desc(), OutcomeResponse.id.desc()),
            )
            .label("from_last"),
            sa.func.row_number()
            .over(
                partition_by=OutcomeResponse.episode_id,
                order_by=(OutcomeResponse.recorded_at, OutcomeResponse.id),
            )
            .label("from_first"),
            sa.func.count().over(partition_by=OutcomeResponse.episode_id).label("count"),
        )
        .join(EpisodeOfCare, EpisodeOfCare.id == OutcomeResponse.episode_id)
        .where(OutcomeResponse.instrument == CASELOAD_INSTRUMENT, EpisodeOfCare.ended_on.is_(None))
        .subquery()
    )
    latest, first = ranked.alias("psfs_latest"), ranked.alias("psfs_first")

    def join(query: sa.Select) -> sa.Select:
        return query.outerjoin(
            latest, sa.and_(latest.c.patient_id == patient_id, latest.c.from_last == 1)
        ).outerjoin(first, sa.and_(first.c.patient_id == patient_id, first.c.from_first == 1))

    columns = [
        latest.c.result.label("psfs_latest"),
        latest.c.local_date.label("psfs_latest_on"),
        latest.c.count.label("psfs_count"),
        first.c.result.label("psfs_first"),
        first.c.local_date.label("psfs_first_on"),
    ]
    return join, columns


def caseload_function(row: Any) -> FunctionFact | None:
    """The FunctionFact of a caseload row selected with ``caseload_function_columns``."""
    if row.psfs_latest is None:
        return None
    instrument = available_instruments().get(CASELOAD_INSTRUMENT)
    if instrument is None or instrument.mic is None:
        return None
    found = change(instrument, Score.from_dict(row.psfs_first), Score.from_dict(row.psfs_latest))
    return FunctionFact(
        CASELOAD_INSTRUMENT,
        found.first,
        found.latest,
        row.psfs_first_on,
        row.psfs_latest_on,
        row.psfs_count,
        instrument.mic.points,
        bool(found.mic_met) if row.psfs_count > 1 else False,
    )
