"""The operator console (Textual) and the `iis` command line."""
