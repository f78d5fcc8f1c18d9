"""Joint workstreams: work that practices of a PCN or federation do together."""
