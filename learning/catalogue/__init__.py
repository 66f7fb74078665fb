"""The course catalogue: published, immutable course versions and reading them."""
