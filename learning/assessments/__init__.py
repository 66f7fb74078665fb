"""Assessments: attempts that never lose an answer, graded only by the server."""
