"""The files of `make check`, apart from conftest.py so that tests can import them."""

# `make check` (pytest -m check): a representative fast subset for day-to-day work, every
# stage touched at least once: units, property tests, the command line, small-mirror builds.
# Its not-slow tests take about a minute of CPU (docs/testing.md); the rest of the suite
# (`make test`) runs before a merge. A file named here must exist (tests/project/test_markers.py).
CHECK_FILES = {
    "tests/ingest/test_ingest_unit.py": "ingest: ATT&CK STIX bundles",
    "tests/graph/test_graph.py": "graph: the three 18.1 releases, ATT&CK only",
    "tests/ingest/mappings/test_controls_ids.py": "controls: ids and score categories",
    "tests/ingest/mappings/test_controls_adapters.py": "controls: every table format",
    "tests/reconcile/test_controls_reconcile.py": "controls: reconciling a table with the target release",
    "tests/ingest/detections/test_detections_sigma.py": "detections: Sigma",
    "tests/ingest/detections/test_detections_cards.py": "detections: hunting cards",
    "tests/convert/test_queries_convert.py": "queries: Sigma converted by pySigma",
    "tests/render/test_layers.py": "render: Navigator layers (small graph, and every 18.1 layer validated)",
    "tests/render/stix/test_stix_unit.py": "render: STIX bundles",
    "tests/render/pages/test_pages_escape.py": "render: Markdown escaping (property tests)",
    "tests/render/pages/test_pages_small.py": "render: the docs pages of a small build",
    "tests/render/test_tables_units.py": "render: CSV and YAML tables",
    "tests/excel/test_xlsx.py": "excel: the xlsx writer of every spreadsheet",
    "tests/site/test_site_markdown.py": "site: Markdown under the site's extensions",
    "tests/site/test_site_titles.py": "site: page titles",
    "tests/diff/test_diff_unit.py": "diff",
    "tests/diff/test_diff_tactics.py": "diff: tactics",
    "tests/upgrade/test_upgrade_units.py": "upgrade of users' layers",
    "tests/ingest/profiles/test_profile_toml.py": "organisation profiles",
    "tests/cli/test_cli_profile.py": "organisation profiles: the command line",
    "tests/fetch/test_fetch_units.py": "fetch: cache, lock file, archives",
    "tests/core/test_limits.py": "limits on input sizes",
    "tests/render/test_naming.py": "portable output names",
    "tests/reconcile/test_books_units.py": "source accounting",
    "tests/fuzz/test_fuzz_config.py": "property tests: configuration",
    "tests/fuzz/test_fuzz_regressions.py": "fuzzing regressions",
    "tests/project/test_hypothesis_profile.py": "the property tests' profiles",
    "tests/build/test_build.py": "build: small-mirror builds, reproducible, pruned",
    "tests/cli/test_cli.py": "command line",
    "tests/cli/test_cli_guidance.py": "command line: quiet, verbose, settings, show by name, answers from a build, progress",
    "tests/project/test_markers.py": "the markers themselves",
}
