"""Records and reference data: frozen dataclasses of ATT&CK, controls, detections and profiles, and the
framework and vocabulary tables. No I/O, no format: every stage may import it."""
