"""Page and API routers, one module per area: pages in ``pages_<area>.py``, the REST API under
``/api/v1`` in ``api_<area>.py``. Each defines a module-level ``router`` (``fastapi.APIRouter``)
that :data:`stimwise.web.app.ROUTERS` lists."""
