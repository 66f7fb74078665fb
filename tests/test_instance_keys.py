"""Instance keys (certificate signing, session secret) are made once, whole, however many
processes start at once."""

import multiprocessing
import os
import stat

from cryptography.hazmat.primitives import serialization

from learning.certificates.signing import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    load_or_create_private_key,
)
from learning.config import write_secret_key

PROCESSES = 8


def _raw(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _public_key_of_a_racer(folder, barrier, results) -> None:
    barrier.wait()
    key = load_or_create_private_key(folder)
    # What an offline verifier reads: there as soon as any racer holds the key.
    published = folder / PUBLIC_KEY_FILE
    seen = _raw(serialization.load_pem_public_key(published.read_bytes())) \
        if published.exists() else None
    results.put((_raw(key.public_key()), seen))


def test_app_servers_starting_together_share_one_whole_key(tmp_path):
    """Eight processes race to make the key of a new instance: all of them sign with the
    same key, read whole from the file, which only its owner may read."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    racers = [context.Process(target=_public_key_of_a_racer, args=(tmp_path, barrier, results))
              for _ in range(PROCESSES)]
    for racer in racers:
        racer.start()
    answers = [results.get(timeout=30) for _ in racers]
    for racer in racers:
        racer.join(timeout=30)
        assert racer.exitcode == 0
    keys = [key for key, _seen in answers]
    assert len(set(keys)) == 1
    assert [seen for _key, seen in answers] == keys  # no racer found the public key missing
    on_disk = load_or_create_private_key(tmp_path).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert on_disk == keys[0]
    published = serialization.load_pem_public_key((tmp_path / PUBLIC_KEY_FILE).read_bytes())
    assert published.public_bytes(serialization.Encoding.Raw,
                                  serialization.PublicFormat.Raw) == keys[0]
    assert stat.S_IMODE(os.stat(tmp_path / PRIVATE_KEY_FILE).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([PRIVATE_KEY_FILE,
                                                                  PUBLIC_KEY_FILE])


def test_a_missing_public_key_is_written_by_whoever_loads_the_private_key(tmp_path):
    """The public half is derived, so any process holding the key may write it: a server
    that loaded a key another had just made, or an instance whose public file was lost."""
    key = load_or_create_private_key(tmp_path)
    for damage in ("unlink", "stale"):
        public = tmp_path / PUBLIC_KEY_FILE
        if damage == "unlink":
            public.unlink()
        else:  # left from another key (a restored private key without its public file)
            public.write_bytes(load_or_create_private_key(tmp_path / "other").public_key()
                               .public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo))
        again = load_or_create_private_key(tmp_path)
        assert _raw(again.public_key()) == _raw(key.public_key())
        written = serialization.load_pem_public_key(public.read_bytes())
        assert _raw(written) == _raw(key.public_key()), damage
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([PRIVATE_KEY_FILE,
                                                                  PUBLIC_KEY_FILE, "other"])


def _secret_of_a_racer(path, barrier, results) -> None:
    barrier.wait()
    results.put(write_secret_key(path))


def test_processes_starting_together_share_one_session_secret(tmp_path):
    """The debug-mode session secret is made the same way: every racer gets the key the
    file holds, and only the file is left."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    path = tmp_path / "instance" / "secret_key"
    racers = [context.Process(target=_secret_of_a_racer, args=(path, barrier, results))
              for _ in range(PROCESSES)]
    for racer in racers:
        racer.start()
    secrets = {results.get(timeout=30) for _ in racers}
    for racer in racers:
        racer.join(timeout=30)
        assert racer.exitcode == 0
    assert secrets == {path.read_text().strip()} and len(secrets.pop()) >= 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]
