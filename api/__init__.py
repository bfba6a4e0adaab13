"""The mdtplan HTTP service (FastAPI): durable jobs, API keys, datasets and web pages.

Start it with ``mdtplan serve``; build it in code with :func:`api.app.create_app`.
"""
