/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backend: the one interface between screens and data sources.
 *
 * Every data source (offline SQLite snapshot, PostgreSQL, HTTP API) is a
 * static struct backend_ops; screens and commands talk only to the
 * backend_* wrappers below, never to sqlite, libpq or curl. Operations are
 * synchronous for the caller but never freeze the UI: while a backend waits
 * on I/O it calls the waiter, which keeps the screen alive and lets the user
 * cancel (Esc). What a backend cannot do is said by its capability bits, not
 * by checking which backend it is.
 *
 * Ownership: a struct backend comes from backend_open() and is released by
 * backend_close(). Records and pages returned through out-parameters belong
 * to the caller (employee_free(), page_free()): the wrappers initialise every
 * output record first, so the caller frees it whatever the status. Backend
 * ops receive initialised output records and replace their contents. */
#ifndef EMPDIR_BACKEND_H
#define EMPDIR_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/employee.h"
#include "../core/err.h"

struct conn_config; /* core/config.h */

enum sort_key { SORT_FULLNAME, SORT_LOCATION, SORT_JOB_TITLE, SORT_COUNT };
const char *sort_key_name(enum sort_key k); /* "fullname", "location", "job_title" */
bool sort_key_parse(const char *s, enum sort_key *out);

enum backend_cap {
	CAP_WRITE = 1u << 0,       /* writes are allowed on this connection */
	CAP_FAST_SEARCH = 1u << 1, /* search uses an index (else it scans) */
	CAP_VERSIONS = 1u << 2,    /* writes carry a version precondition */
	CAP_COUNT = 1u << 3,       /* backend_count() is cheap enough to call */
	CAP_JOURNAL = 1u << 4,     /* edits are journaled for a later push */
	CAP_REMOTE = 1u << 5,      /* talks over a network (may be slow) */
};

/* How a waiting backend keeps the UI alive. tick() is called at least every
 * 100 ms while the backend waits (and whenever input_fd is readable); it
 * returns true when the user cancelled. `what` says what is being waited for
 * ("waiting for the database"). notify() shows a one-line message (e.g.
 * "connection lost; reconnecting in 2 s"). All members may be NULL. */
struct backend_waiter {
	int input_fd;   /* include in poll() to wake promptly on a key, or -1 */
	bool (*tick)(void *ctx, const char *what);
	void (*notify)(void *ctx, const char *msg);
	void *ctx;
};

struct page_query {
	const char *filter; /* case-insensitive substring; NULL or "" for all */
	enum sort_key sort;
	bool desc;
	const char *after;  /* opaque cursor from a previous page, or NULL */
	int limit;          /* 1..500 */
};

struct page {
	struct employee *rows;
	size_t n;
	char *next_cursor;  /* NULL at the end of the list; owned */
};

void page_free(struct page *p);

struct backend;

/* Receives one record of a stream (stream_all); the record is only valid
 * during the call. A status other than ST_OK (with e filled) stops the
 * stream. */
#define BACKEND_BATCH_MAX 500

enum batch_kind { BATCH_CREATE, BATCH_REPLACE, BATCH_DELETE };

struct batch_op {
	enum batch_kind kind;
	const struct employee *rec; /* create, replace (rec->id, rec->version) */
	const char *id;             /* delete */
	const char *version;        /* delete */
};

struct batch_result {
	enum status st;
	bool has_rec;
	struct employee rec;        /* owned when has_rec; batch_results_free() */
};

void batch_results_free(struct batch_result *res, size_t n);

/* One record of a stream, as the source stores it (valid only during the
 * call): badges as the stored text (NULL: SQL NULL), version NULL when it is
 * the content version of exactly these fields (employee_content_version). */
struct stream_record {
	const char *id, *fullname, *location, *job_title, *badges, *version;
};
typedef enum status (*backend_row_fn)(void *ctx, const struct stream_record *r, struct err *e);
/* Receives one record of backend_page_all(); valid only during the call. */
typedef enum status (*backend_record_fn)(void *ctx, const struct employee *r, struct err *e);

struct backend_ops {
	const char *name; /* "offline", "pg", "http" */
	/* Open from a connection description; on failure fill e and leave *out NULL. */
	enum status (*open)(const struct conn_config *cfg, struct backend **out, struct err *e);
	void (*close)(struct backend *b);
	enum status (*list_page)(struct backend *b, const struct page_query *q, struct page *out,
				 struct err *e);
	/* Number of rows matching filter; *n = -1 when unknown. */
	enum status (*count)(struct backend *b, const char *filter, long *n, struct err *e);
	enum status (*get)(struct backend *b, const char *id, struct employee *out, struct err *e);
	/* in->id may be set (client-chosen, e.g. a replayed offline create) or empty
	 * (the backend chooses). out receives the stored record with its version. */
	enum status (*create)(struct backend *b, const struct employee *in, struct employee *out,
			      struct err *e);
	/* Replace the record in->id if its version is still in->version. On a
	 * stale version: ST_CONFLICT and *current holds the record as it is now
	 * (or ST_NOT_FOUND when it was deleted). On success *current holds the
	 * stored record. */
	enum status (*replace)(struct backend *b, const struct employee *in,
			       struct employee *current, struct err *e);
	/* Delete id if its version is still `version`; conflicts as for replace. */
	enum status (*remove)(struct backend *b, const char *id, const char *version,
			      struct employee *current, struct err *e);
	unsigned (*caps)(struct backend *b);
	/* One line for the status bar: "offline demo.db", "pg db@host", ... */
	void (*describe)(struct backend *b, char *out, size_t outsz);
	/* A hint worth showing once (e.g. "no trigram index: search scans"), or NULL. */
	const char *(*hint)(struct backend *b);
	/* Optional: a name of the directory behind this connection that stays
	 * the same whichever host name or route reaches it (pg: the database
	 * system's identifier and the database), so a snapshot is never pushed
	 * into another directory; "" when it cannot tell. */
	void (*identity)(struct backend *b, char *out, size_t outsz);
	/* Optional (NULL: callers page through list_page). Every record, as fast
	 * as the source can send them (pg: the COPY protocol), in no particular
	 * order or, by_name, in list_page's SORT_FULLNAME ascending order; each
	 * with its version unless that is its content version. A row() failure stops the stream and is returned as it is.
	 * The waiter ticks while waiting; Esc cancels (ST_CANCELLED). */
	enum status (*stream_all)(struct backend *b, bool by_name, backend_row_fn row, void *ctx, struct err *e);
	/* Optional (NULL: not offered): apply up to BACKEND_BATCH_MAX writes in
	 * order, each on its own, in one exchange; res[i] answers ops[i] as the
	 * single op would (ST_OK with the stored record, ST_CONFLICT with the
	 * current one when known, ST_NOT_FOUND, ST_EXISTS, ST_INVALID). The
	 * return is ST_OK when the exchange itself worked. */
	enum status (*apply_batch)(struct backend *b, const struct batch_op *ops, size_t n,
				   struct batch_result *res, struct err *e);
};

/* The common part every backend embeds first (struct offline { struct backend base; ... }). */
struct backend {
	const struct backend_ops *ops;
	bool read_only;                 /* refuse every write, whatever the caller does */
	/* The server, not the client, allows this login only to read (a pg
	 * role without INSERT/UPDATE/DELETE, an API token of role "reader").
	 * Set by the backend's open(); implies read_only. server_role names
	 * the role for messages ("" when the server did not name it). */
	bool server_read_only;
	char server_role[64];
	struct backend_waiter waiter;   /* copied in by backend_set_waiter() */
};

/* The registry: find a backend by name ("offline", "pg", "http"). */
const struct backend_ops *backend_find(const char *name);
enum status backend_open(const struct conn_config *cfg, struct backend **out, struct err *e);
void backend_close(struct backend *b);
void backend_set_waiter(struct backend *b, const struct backend_waiter *w);

enum status backend_list_page(struct backend *b, const struct page_query *q, struct page *out,
			      struct err *e);
enum status backend_count(struct backend *b, const char *filter, long *n, struct err *e);
enum status backend_get(struct backend *b, const char *id, struct employee *out, struct err *e);
/* The write wrappers validate and normalise the record first (ST_INVALID) and
 * refuse on a read-only connection (ST_READ_ONLY) before the backend is asked;
 * backends refuse writes on their own too (defence in depth). */
enum status backend_create(struct backend *b, const struct employee *in, struct employee *out,
			   struct err *e);
enum status backend_replace(struct backend *b, const struct employee *in,
			    struct employee *current, struct err *e);
enum status backend_remove(struct backend *b, const char *id, const char *version,
			   struct employee *current, struct err *e);
/* Whether the backend offers stream_all; backend_stream_all() says
 * ST_UNSUPPORTED when it does not. */
static inline bool backend_can_stream(const struct backend *b)
{
	return b->ops->stream_all != NULL;
}
/* The directory's identity (backend_ops.identity), or "" when unknown. */
void backend_identity(struct backend *b, char *out, size_t outsz);
/* Every record, page by page in name order (for sources without
 * stream_all); a status other than ST_OK from each() stops and is returned. */
enum status backend_page_all(struct backend *b, backend_record_fn each, void *ctx, struct err *e);
/* The batch op through the same checks as the single writes: a read-only
 * connection is refused, records are normalised, and an invalid one is not
 * sent but answered ST_INVALID (its single write says why).
 * ST_UNSUPPORTED when the backend has no batch op. */
enum status backend_apply_batch(struct backend *b, const struct batch_op *ops, size_t n,
				struct batch_result *res, struct err *e);
static inline enum status backend_stream_all(struct backend *b, bool by_name, backend_row_fn row, void *ctx,
					     struct err *e)
{
	if (!b->ops->stream_all)
		return err_set(e, ST_UNSUPPORTED, "the %s backend cannot stream every record", b->ops->name);
	return b->ops->stream_all(b, by_name, row, ctx, e);
}
unsigned backend_caps(struct backend *b);
void backend_describe(struct backend *b, char *out, size_t outsz);
const char *backend_hint(struct backend *b);

/* Helpers for backends. */
bool backend_filter_blank(const char *filter); /* NULL, empty or only blanks: no filter */
bool backend_tick(struct backend *b, const char *what); /* true: cancelled */
void backend_notify(struct backend *b, const char *msg);
enum status backend_refuse_read_only(struct backend *b, struct err *e);
/* The server's role allows only reading: mark b so (see struct backend). */
void backend_set_server_read_only(struct backend *b, const char *role);

extern const struct backend_ops offline_backend_ops; /* offline/ */
extern const struct backend_ops http_backend_ops;    /* api_client/http_backend.c */
extern const struct backend_ops pg_backend_ops;      /* api_client/pg_backend.c */

#endif
