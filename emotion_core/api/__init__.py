"""The JSON API: the Flask blueprint and the app factory that serves it (``app``), what each endpoint accepts
(``fields``), and its OpenAPI document (``openapi``)."""
