"""Response models shared by the API modules."""

from pydantic import BaseModel


class DosageOut(BaseModel):
    """The dosage fields of DESIGN §2."""

    sets: int
    reps: int | None
    reps_per_set: list[int] | None
    hold_seconds: int | None
    duration_seconds: int | None
    distance_m: int | None
    rest_seconds: int
    side: str
    load: str | None
