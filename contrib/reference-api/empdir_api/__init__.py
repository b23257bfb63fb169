# SPDX-License-Identifier: GPL-3.0-or-later
"""empdir_api: the Employee Directory HTTP API (contrib/reference-api/openapi.yaml) as a
Flask blueprint over the deployed PostgreSQL table, with Flask-SQLAlchemy.

A deployment's app:

    from empdir_api import db, api_blueprint      # or create_blueprint(token=...)
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://..."
    db.init_app(app)
    app.register_blueprint(api_blueprint)         # /api/v1/...

An app that already has its own SQLAlchemy() instance (the seed's `db`)
registers only the blueprint: the API uses whichever Flask-SQLAlchemy instance
the app has. See README.md; server.py runs it standalone."""

from .models import Employee, db
from .routes import URL_PREFIX, api_blueprint, create_blueprint
from .store import Unavailable

__all__ = ["Employee", "URL_PREFIX", "Unavailable", "api_blueprint", "create_blueprint", "db"]
