"""`SOURCE_DATE_EPOCH`, read in one place.

The reproducible-builds convention: when the variable is set, every date an output
must carry and its inputs do not give (STIX objects without a source date, workbook
and zip times, the site's pages) is that moment instead of a default. It is read once
per use, here, so that STIX, the workbooks and the site agree on what a valid value
is and say the same thing about a bad one.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from pipeline.core.errors import ConfigError

ENV = "SOURCE_DATE_EPOCH"


def source_date_epoch() -> datetime | None:
    """The moment `SOURCE_DATE_EPOCH` names (UTC), or None when it is unset or blank;
    a value that is not a whole number of seconds since 1970 is a configuration error."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    try:
        return datetime.fromtimestamp(int(raw), tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(f"{ENV} must be a whole number of seconds since 1970, not {raw!r}") from None
