"""Graph stage: one networkx MultiDiGraph of everything ingested, and the queries on it."""

from pipeline.graph.build import build_graph
from pipeline.graph import query

__all__ = ["build_graph", "query"]
