"""The mdtplan HTTP service (FastAPI): durable jobs, API keys, datasets and web pages.

Start it with ``mdtplan serve``; build it in code with :func:`api.app.create_app`. The library
(``mdtplan``) never imports this package; its command line does, for ``serve`` and ``keys``.

``app``, ``routes/``, ``deps``, ``schemas``, ``services`` and ``templates`` answer HTTP;
``settings`` and ``store`` hold the configuration and the durable jobs; ``dispatcher`` (in the
server) starts each job in a ``worker`` process; ``checker`` reads uploads and checks
submissions in throw-away processes, ``bind`` turns a scenario's dataset ids into paths.
"""
