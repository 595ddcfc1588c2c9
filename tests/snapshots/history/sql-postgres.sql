
--- exit 2; stderr:
Error: --dialect postgres: a list filtered by a lambda (list_filter) has no equivalent in postgres; the funnel needs it for `order: strict` with a `shape: long` source (every evidence time kept per id)
