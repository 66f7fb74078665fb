"""My training: the officer's home, assigned courses first."""
