"""Completion and certificates: issued once per completion, verifiable by anyone."""
