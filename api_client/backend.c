/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/config.h"

static const char *const sort_names[SORT_COUNT] = {"fullname", "location", "job_title"};

const char *sort_key_name(enum sort_key k)
{
	return (unsigned)k < SORT_COUNT ? sort_names[k] : "fullname";
}

bool sort_key_parse(const char *s, enum sort_key *out)
{
	static const struct { const char *name; enum sort_key k; } aliases[] = {
		{"fullname", SORT_FULLNAME}, {"name", SORT_FULLNAME},
		{"location", SORT_LOCATION}, {"job_title", SORT_JOB_TITLE},
		{"title", SORT_JOB_TITLE},
	};
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(s, aliases[i].name) == 0) {
			*out = aliases[i].k;
			return true;
		}
	return false;
}

void page_free(struct page *p)
{
	for (size_t i = 0; i < p->n; i++)
		employee_free(&p->rows[i]);
	free(p->rows);
	free(p->next_cursor);
	memset(p, 0, sizeof *p);
}

enum status backend_open(const struct conn_config *cfg, struct backend **out, struct err *e)
{
	*out = NULL;
	const struct backend_ops *ops = backend_find(cfg->backend ? cfg->backend : "");
	if (!ops)
		return err_set(e, ST_UNSUPPORTED, "unknown backend '%s'; use offline, pg or http",
			       cfg->backend ? cfg->backend : "");
	enum status st = ops->open(cfg, out, e);
	if (st != ST_OK)
		return st;
	(*out)->ops = ops;
	(*out)->read_only = (*out)->read_only || cfg->read_only;
	return ST_OK;
}

void backend_close(struct backend *b)
{
	if (b)
		b->ops->close(b);
}

void backend_set_waiter(struct backend *b, const struct backend_waiter *w)
{
	if (w)
		b->waiter = *w;
	else
		b->waiter = (struct backend_waiter){-1, NULL, NULL, NULL};
}

bool backend_filter_blank(const char *f)
{
	if (!f)
		return true;
	for (; *f; f++)
		if (*f != ' ' && *f != '\t')
			return false;
	return true;
}

bool backend_tick(struct backend *b, const char *what)
{
	return b->waiter.tick ? b->waiter.tick(b->waiter.ctx, what) : false;
}

void backend_notify(struct backend *b, const char *msg)
{
	if (b->waiter.notify)
		b->waiter.notify(b->waiter.ctx, msg);
}

enum status backend_refuse_read_only(struct backend *b, struct err *e)
{
	if (b->server_read_only && b->server_role[0])
		return err_set(e, ST_READ_ONLY,
			       "the server lets this login only read (role %s): nothing was changed; "
			       "ask an administrator for a role that may write",
			       b->server_role);
	if (b->server_read_only)
		return err_set(e, ST_READ_ONLY,
			       "the server lets this login only read: nothing was changed; "
			       "ask an administrator for a role that may write");
	return err_set(e, ST_READ_ONLY,
		       "this connection is read-only: nothing was changed (open it without --read-only to edit)");
}

void backend_set_server_read_only(struct backend *b, const char *role)
{
	b->server_read_only = true;
	b->read_only = true;
	snprintf(b->server_role, sizeof b->server_role, "%s", role ? role : "");
}

static bool valid_limit(const struct page_query *q)
{
	return q->limit >= 1 && q->limit <= 500 && (unsigned)q->sort < SORT_COUNT;
}

enum status backend_list_page(struct backend *b, const struct page_query *q, struct page *out,
			      struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!valid_limit(q))
		return err_set(e, ST_INVALID, "page size must be 1 to 500 rows");
	return b->ops->list_page(b, q, out, e);
}

enum status backend_count(struct backend *b, const char *filter, long *n, struct err *e)
{
	*n = -1;
	if (!b->ops->count)
		return ST_OK;
	return b->ops->count(b, filter, n, e);
}

enum status backend_get(struct backend *b, const char *id, struct employee *out, struct err *e)
{
	if (!id || !*id || strlen(id) > EMP_ID_MAX)
	{
		employee_init(out);
		return err_set(e, ST_INVALID, "an id is 1 to %d characters", EMP_ID_MAX);
	}
	employee_init(out);
	return b->ops->get(b, id, out, e);
}

/* Normalise a copy and report the first problem, naming its field. */
static enum status validated(const struct employee *in, struct employee *copy, struct err *e)
{
	employee_init(copy);
	employee_copy(copy, in);
	struct employee_problems p;
	if (employee_normalize(copy, &p))
		return ST_OK;
	for (int f = 0; f < EF_COUNT; f++)
		if (p.msg[f][0]) {
			err_set(e, ST_INVALID, "%s %s", employee_field_label((enum employee_field)f),
				p.msg[f]);
			break;
		}
	employee_free(copy);
	return ST_INVALID;
}

enum status backend_create(struct backend *b, const struct employee *in, struct employee *out,
			   struct err *e)
{
	employee_init(out);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	struct employee rec;
	enum status st = validated(in, &rec, e);
	if (st != ST_OK)
		return st;
	st = b->ops->create(b, &rec, out, e);
	employee_free(&rec);
	return st;
}

enum status backend_replace(struct backend *b, const struct employee *in,
			    struct employee *current, struct err *e)
{
	employee_init(current);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	if (!in->id[0])
		return err_set(e, ST_INVALID, "cannot replace a record without an id");
	struct employee rec;
	enum status st = validated(in, &rec, e);
	if (st != ST_OK)
		return st;
	st = b->ops->replace(b, &rec, current, e);
	employee_free(&rec);
	return st;
}

enum status backend_remove(struct backend *b, const char *id, const char *version,
			   struct employee *current, struct err *e)
{
	employee_init(current);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	if (!id || !*id)
		return err_set(e, ST_INVALID, "cannot delete a record without an id");
	return b->ops->remove(b, id, version ? version : "", current, e);
}

enum status backend_apply_batch(struct backend *b, const struct batch_op *ops, size_t n,
				struct batch_result *res, struct err *e)
{
	memset(res, 0, sizeof *res * n);
	if (!b->ops->apply_batch)
		return err_set(e, ST_UNSUPPORTED, "the %s backend has no batch writes", b->ops->name);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	if (n > BACKEND_BATCH_MAX)
		return err_set(e, ST_INVALID, "at most %d operations per batch", BACKEND_BATCH_MAX);
	struct employee *recs = xcalloc(n ? n : 1, sizeof *recs);
	bool *own = xcalloc(n ? n : 1, sizeof *own);
	struct batch_op *send = xcalloc(n ? n : 1, sizeof *send);
	size_t *at = xcalloc(n ? n : 1, sizeof *at);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind != BATCH_DELETE) {
			struct err ignore = {0};
			if (validated(ops[i].rec, &recs[i], &ignore) != ST_OK) {
				res[i].st = ST_INVALID;
				continue;
			}
			own[i] = true;
		}
		send[m] = ops[i];
		if (own[i])
			send[m].rec = &recs[i];
		at[m++] = i;
	}
	struct batch_result *got = xcalloc(m ? m : 1, sizeof *got);
	enum status st = m ? b->ops->apply_batch(b, send, m, got, e) : ST_OK;
	for (size_t k = 0; st == ST_OK && k < m; k++)
		res[at[k]] = got[k]; /* the records move over */
	if (st != ST_OK)
		batch_results_free(got, m);
	for (size_t i = 0; i < n; i++)
		if (own[i])
			employee_free(&recs[i]);
	free(got);
	free(at);
	free(send);
	free(own);
	free(recs);
	return st;
}

enum status backend_page_all(struct backend *b, backend_record_fn each, void *ctx, struct err *e)
{
	struct page_query q = {.sort = SORT_FULLNAME, .limit = 500};
	char *cursor = NULL;
	enum status st;
	for (;;) {
		struct page p;
		q.after = cursor;
		if ((st = backend_list_page(b, &q, &p, e)) != ST_OK)
			break;
		for (size_t i = 0; i < p.n && st == ST_OK; i++)
			st = each(ctx, &p.rows[i], e);
		free(cursor);
		cursor = p.next_cursor ? xstrdup(p.next_cursor) : NULL;
		page_free(&p);
		if (st != ST_OK || !cursor)
			break;
	}
	free(cursor);
	return st;
}

void backend_identity(struct backend *b, char *out, size_t outsz)
{
	out[0] = '\0';
	if (b->ops->identity)
		b->ops->identity(b, out, outsz);
}

unsigned backend_caps(struct backend *b)
{
	unsigned c = b->ops->caps(b);
	if (b->read_only)
		c &= ~(unsigned)CAP_WRITE;
	return c;
}

void backend_describe(struct backend *b, char *out, size_t outsz)
{
	b->ops->describe(b, out, outsz);
}

const char *backend_hint(struct backend *b)
{
	return b->ops->hint ? b->ops->hint(b) : NULL;
}

void batch_results_free(struct batch_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].has_rec)
			employee_free(&res[i].rec);
}
