#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reference Employee Directory HTTP API (contrib/reference-api/openapi.yaml) over the
deployed PostgreSQL table, standalone: a Flask app that registers the
empdir_api blueprint (Flask-SQLAlchemy) and serves it with Werkzeug's threaded
server. See README.md.

    server.py --database "host=127.0.0.1 port=5432 dbname=empdir user=postgres" \\
              [--host 127.0.0.1] [--port 8080|0] [--token-file FILE] [--no-batch] \\
              [--total always|first|never] [--quiet]

With --port 0 it picks a free port. Either way it prints
"listening on http://HOST:PORT" (flushed) once it accepts connections."""

import argparse
import logging
import os
import signal
import sys

from flask import Flask
from psycopg2.extensions import parse_dsn
from sqlalchemy.engine import URL
from werkzeug.serving import make_server

from empdir_api import create_blueprint, db

MAX_BODY = 8 * 1024 * 1024

# The pool and the session settings the server always had: 16 connections
# (a request waits up to 20 s for one), 5 s to connect, 25 s per statement.
ENGINE_OPTIONS = {
    "pool_size": 16,
    "max_overflow": 0,
    "pool_timeout": 20,
    "connect_args": {"connect_timeout": 5, "application_name": "empdir-reference-api",
                     "options": "-c statement_timeout=25000"},
}


def database_url(dsn):
    """A libpq conninfo ("host=... dbname=...") or postgresql:// URL as a
    SQLAlchemy URL for psycopg2. libpq's own parser reads it, so every form and
    keyword libpq takes works; the keywords travel as psycopg2.connect()
    arguments (the password in the URL's password field, which SQLAlchemy
    hides when it prints the URL)."""
    params = parse_dsn(dsn)
    password = params.pop("password", None)
    return URL.create("postgresql+psycopg2", password=password, query=params)


def create_app(database, token=None, batch=True, total="always"):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(database)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = ENGINE_OPTIONS
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    db.init_app(app)
    app.register_blueprint(create_blueprint(token=token, batch=batch, total=total, api_only=True))
    return app


def read_token(path):
    with open(path, "rb") as f:
        token = f.read().strip()
    if not token:
        raise SystemExit(f"server.py: the token file {path} is empty")
    return token


def main(argv=None):
    ap = argparse.ArgumentParser(description="The reference Employee Directory HTTP API over PostgreSQL.")
    ap.add_argument("--database", default=os.environ.get("DATABASE_URL"),
                    help="libpq conninfo or URL (default: $DATABASE_URL)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    ap.add_argument("--token-file", default=os.environ.get("EMPDIR_API_TOKEN_FILE"),
                    help="require Authorization: Bearer <the file's content> (default: $EMPDIR_API_TOKEN_FILE)")
    ap.add_argument("--no-batch", action="store_true", help="leave out /employees/batch")
    ap.add_argument("--total", choices=["always", "first", "never"], default="always",
                    help="which pages carry the match count (else total is null)")
    ap.add_argument("--quiet", action="store_true", help="no request log on stderr")
    args = ap.parse_args(argv)
    if not args.database:
        ap.error("--database (or $DATABASE_URL) is required")
    try:
        parse_dsn(args.database)
    except Exception as e:  # psycopg2.ProgrammingError: libpq's own message
        ap.error(f"--database: {str(e).strip()}")

    token = read_token(args.token_file) if args.token_file else None
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(args.database, token=token, batch=not args.no_batch, total=args.total)
    srv = make_server(args.host, args.port, app, threaded=True)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"listening on http://{args.host}:{srv.server_port}", flush=True)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.server_close()
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
