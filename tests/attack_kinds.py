"""ATT&CK's STIX object types and the kind the pipeline gives each (techniques apart), written
out here rather than taken from pipeline.ingest so that the ingestion tests
(tests/ingest/test_attack_realdata.py) and the diff tests (tests/diff/test_diff_realdata.py)
count the raw bundles independently of the code they check."""

KIND = {
    "x-mitre-tactic": "tactic",
    "course-of-action": "mitigation",
    "intrusion-set": "group",
    "malware": "software",
    "tool": "software",
    "campaign": "campaign",
    "x-mitre-data-source": "datasource",
    "x-mitre-data-component": "datacomponent",
    "x-mitre-detection-strategy": "detection_strategy",
    "x-mitre-analytic": "analytic",
    "x-mitre-asset": "asset",
}
