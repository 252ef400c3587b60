"""The `iis` verbs, one module per area; each adds its sub-commands in `register()`."""
