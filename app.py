"""Entry point for `flask --app app` and for a huey consumer (`huey_consumer app.huey`)."""

from portal import create_app

app = create_app()
huey = app.extensions["weibao"].huey
