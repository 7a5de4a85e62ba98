"""Data that leaves with the patient: a FHIR R4 Bundle and spreadsheet-safe CSV (CLINICAL §9).

Pure: plain records in (`app.export.records`), JSON-ready dicts or CSV text out. No Flask, no
database, no clock: the caller passes `base_url` (the app's PUBLIC_BASE_URL) and `generated_at`.
"""

from app.export.csv_safe import csv_text, neutralise, write_csv
from app.export.fhir import build_bundle, unresolved_references

__all__ = ["build_bundle", "csv_text", "neutralise", "unresolved_references", "write_csv"]
