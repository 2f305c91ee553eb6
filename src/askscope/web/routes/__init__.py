"""The app's routers, one module per page group, each exposing ``router`` (listed in
:data:`askscope.web.app.ROUTERS`)."""
