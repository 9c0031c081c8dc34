"""Mirroring an upstream Hub (huggingface.co or any Hub-compatible endpoint) into the registry.

The pieces, each in its own module:

- ``politeness``: waits for 429 ``Retry-After``/``RateLimit``, backs off with jitter on
  5xx and timeouts, and caps concurrent requests per upstream;
- ``upstream``: the real ``huggingface_hub`` client, wrapped so that every call is polite;
- ``selection``: which repositories a specification (or the CLI) asks for, as listing sources;
- ``files``: which files of a repository to copy for ``none``/``small``/``all``;
- ``sync``: bringing one repository up to date (fetch in a thread, write in one transaction);
- ``run``: the resumable loop over a run's pages, with live counters and the cursor.
"""
