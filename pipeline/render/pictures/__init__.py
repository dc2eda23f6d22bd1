"""Pictures of coverage, drawn when the pages are rendered: the ATT&CK matrix as a
heatmap and bar charts, as static HTML and inline SVG.

Self-contained on purpose: no script, no font, no image from anywhere; a page with a
picture reads the same offline, without JavaScript, in the build's Markdown on a code
host and on the docs site. The colours are the Navigator layers' own (`palette`), so a
cell on the site and the same technique in a layer agree. Every string from a source
(technique, tactic, group and framework names) is HTML-escaped where it is written.

- `matrix`: the matrix of one domain (tactics in release order, techniques by name,
  each with its sub-techniques), gathered from the graph once;
- `heatmap`: that matrix with each technique coloured by a class (technique → class):
  the coverage class on the home page, the mapping category on a framework page, the
  coverage of what a group uses on a group page;
- `charts`: stacked and plain horizontal bar charts;
- `palette`: classes, labels and colours, taken from the layer renderers.
"""
