"""The function trend the alert rules read, loaded for many episodes at once (CLINICAL §5)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from app.clinical.timeline import FunctionFact
from app.extensions import db
from app.measures.catalog import available_instruments
from app.measures.instruments import Domain, Score, change
from app.patient.models import OutcomeResponse


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
