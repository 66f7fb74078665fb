"""Authoring: catalogue health and previews for trainers."""
