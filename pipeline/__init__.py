"""attack-pipeline: one technique–control–detection graph from ATT&CK, mapping tables and detection content."""

__version__ = "0.1.0"
