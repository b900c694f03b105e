"""Page and API routers. Every module here that defines a module-level ``router``
(``fastapi.APIRouter``) is included by :func:`stimwise.web.app.create_app`: pages in
``pages_<area>.py``, the REST API under ``/api/v1`` in ``api_<area>.py``."""
