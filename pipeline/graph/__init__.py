"""Graph stage: one networkx MultiDiGraph of everything ingested (build.py), and the queries on
it (query.py, views.py, coverage.py). The package imports nothing itself, so that counting
from the records (counts.py, for `stats --attack-only`) costs no networkx import."""
