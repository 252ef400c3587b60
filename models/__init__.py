"""The books of IIS: the data model and the operations that post documents."""
