"""The terminal views (Rich): one module per artifact, each with `draw(artifact)`, plus the
plain-text console and table helpers they share (console.py) and the query progress bar
(progress.py). This package and `cli/` are the only places that import rich; importing the
package itself does not.
"""
