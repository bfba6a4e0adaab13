"""The browser app's building blocks: templates and static files, forms, words and figures.

The routes (:mod:`api.routes.pages`, :mod:`api.routes.workspace`) use these to render
server-side pages; they call the same services as the ``/v1`` API.
"""
