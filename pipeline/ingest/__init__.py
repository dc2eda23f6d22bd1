"""Ingest stage: read published files into the domain model, reporting bad records."""
