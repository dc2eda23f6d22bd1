"""Carry Navigator layers that users made themselves to a newer ATT&CK release.

    read.py      files, folders and JSON lists of layers → checked `LayerInput`s (or one
                 line per bad layer, before anything is written)
    releases.py  a layer's source release (its `versions.attack`, else guessed) and the
                 lookups that lead an id of that release to the target release
    entries.py   one layer's technique entries → the target release's entries and the
                 change behind each one (carried, renamed, re-tagged, revoked, merged,
                 deprecated, unknown)
    report.py    the per-layer report (Markdown and JSON)
    run.py       the whole batch: read every layer, upgrade, write layers and reports
"""
