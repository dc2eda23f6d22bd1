"""The `excel` command: one ATT&CK release as the workbooks MITRE publishes (techniques, tactics,
matrices...), and the byte-stable SpreadsheetML writer the tables renderer shares."""
