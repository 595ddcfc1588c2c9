"""Pure SQL vocabulary: AST helpers, allow-listed conditions, amount and date parsing, readers."""
