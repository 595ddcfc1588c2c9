"""`--format json`: the artifact's own versioned document (Artifact.to_json).

Render adds nothing to the JSON: its shape is the artifact's, its schema ships with the
package (Artifact.schema_document()). Named json_out, not json: a submodule `render.json` would
become the package attribute `json` and shadow any `import json` in the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from funnelcli.outputs.base import Artifact


def json_text(artifact: Artifact) -> str:
    """The artifact's JSON document as indented UTF-8 text ending with a newline."""
    return artifact.to_json()
