"""The docs site: the Markdown pages of a finished build published as a static website
(mkdocs + mkdocs-material), with the build's layers, STIX bundles, tables and reports
downloadable at the addresses the pages already link.

One job per module: `source` finds the build and its date, `nav` reads the navigation
out of the build's own index and tactic pages, `config` writes mkdocs.yml, `hooks` are
the mkdocs hooks (artifact files and links, search exclusion), `make` runs mkdocs into a
fresh folder and swaps it in (`parallel`: its page loops in two worker processes), `serve` previews a built site on 127.0.0.1.
"""
