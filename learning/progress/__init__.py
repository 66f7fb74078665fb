"""Lesson progress: which officer completed which lesson, on which version."""
