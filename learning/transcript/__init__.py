"""The officer's transcript: every course with its status; reads, never writes."""
