/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "pager.h"

#include <stdlib.h>
#include <string.h>

void pager_init(struct pager *p, struct backend *b, int chunk)
{
	memset(p, 0, sizeof *p);
	p->backend = b;
	p->chunk = chunk < 1 ? 1 : chunk > 500 ? 500 : chunk;
	p->total = -1;
}

static void chunk_free(struct pager_chunk *c)
{
	free(c->base);
	page_free(&c->page);
	memset(c, 0, sizeof *c);
}

static void clear_window(struct pager *p)
{
	for (int i = 0; i < p->nchunks; i++)
		chunk_free(&p->chunks[i]);
	p->nchunks = 0;
	for (size_t i = 0; i < p->nstack; i++)
		free(p->stack[i].base);
	p->nstack = 0;
	p->dropped = 0;
	p->sel = 0;
}

void pager_free(struct pager *p)
{
	clear_window(p);
	free(p->stack);
	free(p->filter);
	memset(p, 0, sizeof *p);
}

size_t pager_rows(const struct pager *p)
{
	size_t n = 0;
	for (int i = 0; i < p->nchunks; i++)
		n += p->chunks[i].page.n;
	return n;
}

static const struct employee *row_at(const struct pager *p, size_t i)
{
	for (int c = 0; c < p->nchunks; c++) {
		if (i < p->chunks[c].page.n)
			return &p->chunks[c].page.rows[i];
		i -= p->chunks[c].page.n;
	}
	return NULL;
}

const struct employee *pager_row(const struct pager *p, size_t view_index)
{
	size_t n = pager_rows(p);
	if (view_index >= n)
		return NULL;
	return row_at(p, p->from_end ? n - 1 - view_index : view_index);
}

size_t pager_view_selected(const struct pager *p)
{
	size_t n = pager_rows(p);
	if (n == 0)
		return 0;
	return p->from_end ? n - 1 - p->sel : p->sel;
}

const struct employee *pager_selected(const struct pager *p)
{
	return row_at(p, p->sel);
}

long pager_position(const struct pager *p)
{
	long pos = (long)(p->dropped + p->sel);
	if (!p->from_end)
		return pos;
	return p->total >= 0 ? p->total - 1 - pos : -1;
}

static enum status fetch(struct pager *p, const char *base, struct pager_chunk *out, struct err *e)
{
	struct page_query q = {
		.filter = p->filter,
		.sort = p->sort,
		.desc = p->desc != p->from_end,
		.after = base,
		.limit = p->chunk,
	};
	memset(out, 0, sizeof *out);
	enum status st = backend_list_page(p->backend, &q, &out->page, e);
	if (st == ST_OK)
		out->base = base ? xstrdup(base) : NULL;
	return st;
}

/* The whole result is in the window: its size is the exact count. */
static void note_complete(struct pager *p)
{
	if (p->nstack == 0 && p->nchunks > 0 && !p->chunks[0].base &&
	    !p->chunks[p->nchunks - 1].page.next_cursor)
		p->total = (long)pager_rows(p);
}

static enum status start(struct pager *p, bool from_end, struct err *e)
{
	clear_window(p);
	p->from_end = from_end;
	enum status st = fetch(p, NULL, &p->chunks[0], e);
	if (st != ST_OK)
		return st;
	p->nchunks = 1;
	note_complete(p);
	return ST_OK;
}

enum status pager_reset(struct pager *p, struct err *e)
{
	long n = -1;
	enum status st = start(p, false, e);
	if (st != ST_OK)
		return st;
	if (!p->filter && (backend_caps(p->backend) & CAP_COUNT)) {
		struct err ce = {0};
		if (backend_count(p->backend, NULL, &n, &ce) == ST_OK)
			p->total = n;
	} else if (p->total < 0 || p->filter) {
		p->total = -1;
		note_complete(p);
	}
	return ST_OK;
}

enum status pager_count(struct pager *p, struct err *e)
{
	long n = -1;
	enum status st = backend_count(p->backend, p->filter, &n, e);
	if (st == ST_OK)
		p->total = n;
	return st;
}

enum status pager_set_sort(struct pager *p, enum sort_key k, bool desc, struct err *e)
{
	p->sort = k;
	p->desc = desc;
	long keep = p->total;
	enum status st = start(p, false, e);
	if (keep >= 0)
		p->total = keep;
	return st;
}

enum status pager_set_filter(struct pager *p, const char *filter, struct err *e)
{
	free(p->filter);
	p->filter = filter && *filter ? xstrdup(filter) : NULL;
	p->total = -1;
	return pager_reset(p, e);
}

/* Fetch the chunk after the window; drop the oldest if over budget. Sets
 * *shift to how far window indexes moved (negative when a chunk left). */
static enum status extend_forward(struct pager *p, bool *more, long *shift, struct err *e)
{
	*more = false;
	*shift = 0;
	if (p->nchunks == 0)
		return ST_OK;
	const char *next = p->chunks[p->nchunks - 1].page.next_cursor;
	if (!next)
		return ST_OK;
	struct pager_chunk c;
	enum status st = fetch(p, next, &c, e);
	if (st != ST_OK)
		return st;
	if (c.page.n == 0) { /* rows vanished behind us */
		free(p->chunks[p->nchunks - 1].page.next_cursor);
		p->chunks[p->nchunks - 1].page.next_cursor = NULL;
		chunk_free(&c);
		return ST_OK;
	}
	if (p->nchunks == PAGER_CHUNKS) {
		struct pager_chunk *first = &p->chunks[0];
		if (p->nstack == p->capstack) {
			p->capstack = p->capstack ? p->capstack * 2 : 64;
			p->stack = xrealloc(p->stack, p->capstack * sizeof *p->stack);
		}
		p->stack[p->nstack].base = first->base;
		p->stack[p->nstack++].n = first->page.n;
		first->base = NULL;
		p->dropped += first->page.n;
		*shift = -(long)first->page.n;
		chunk_free(first);
		memmove(&p->chunks[0], &p->chunks[1], sizeof p->chunks[0] * (PAGER_CHUNKS - 1));
		p->nchunks--;
	}
	p->chunks[p->nchunks++] = c;
	*more = true;
	return ST_OK;
}

static enum status extend_backward(struct pager *p, bool *more, long *shift, struct err *e)
{
	*more = false;
	*shift = 0;
	if (p->nstack == 0)
		return ST_OK;
	struct pager_saved s = p->stack[p->nstack - 1];
	struct pager_chunk c;
	enum status st = fetch(p, s.base, &c, e);
	if (st != ST_OK)
		return st;
	p->nstack--;
	free(s.base);
	p->dropped = p->dropped > s.n ? p->dropped - s.n : 0;
	if (p->nchunks == PAGER_CHUNKS) {
		chunk_free(&p->chunks[PAGER_CHUNKS - 1]);
		p->nchunks--;
	}
	/* The fetched chunk's next cursor must lead to what we hold. */
	memmove(&p->chunks[1], &p->chunks[0], sizeof p->chunks[0] * (size_t)p->nchunks);
	p->chunks[0] = c;
	p->nchunks++;
	*shift = (long)c.page.n;
	*more = c.page.n > 0;
	return ST_OK;
}

enum status pager_move(struct pager *p, long delta, struct err *e)
{
	long target = (long)p->sel + (p->from_end ? -delta : delta);
	enum status st;
	bool more;
	long shift;
	while (target >= (long)pager_rows(p)) {
		if ((st = extend_forward(p, &more, &shift, e)) != ST_OK)
			return st;
		if (!more)
			break;
		target += shift;
		p->sel = (size_t)((long)p->sel + shift);
	}
	while (target < 0) {
		if ((st = extend_backward(p, &more, &shift, e)) != ST_OK)
			return st;
		if (!more)
			break;
		target += shift;
		p->sel += (size_t)shift;
	}
	long n = (long)pager_rows(p);
	if (target >= n)
		target = n - 1;
	if (target < 0)
		target = 0;
	p->sel = (size_t)target;
	note_complete(p);
	return ST_OK;
}

enum status pager_ensure(struct pager *p, size_t after, size_t before, struct err *e)
{
	size_t fwd = p->from_end ? before : after, back = p->from_end ? after : before;
	bool more = true;
	long shift;
	enum status st;
	while (more && pager_rows(p) > 0 && pager_rows(p) - 1 - p->sel < fwd) {
		if ((st = extend_forward(p, &more, &shift, e)) != ST_OK)
			return st;
		p->sel = (size_t)((long)p->sel + shift);
	}
	more = true;
	while (more && p->sel < back) {
		if ((st = extend_backward(p, &more, &shift, e)) != ST_OK)
			return st;
		p->sel += (size_t)shift;
	}
	note_complete(p);
	return ST_OK;
}

enum status pager_home(struct pager *p, struct err *e)
{
	long keep = p->total;
	enum status st = start(p, false, e);
	if (keep >= 0)
		p->total = keep;
	return st;
}

enum status pager_end(struct pager *p, struct err *e)
{
	long keep = p->total;
	enum status st = start(p, true, e);
	if (keep >= 0)
		p->total = keep;
	return st;
}

enum status pager_reload(struct pager *p, const char *keep_id, struct err *e)
{
	char *base = p->nchunks && p->chunks[0].base ? xstrdup(p->chunks[0].base) : NULL;
	int want = p->nchunks ? p->nchunks : 1;
	size_t old_sel = p->sel;
	for (int i = 0; i < p->nchunks; i++)
		chunk_free(&p->chunks[i]);
	p->nchunks = 0;
	enum status st = fetch(p, base, &p->chunks[0], e);
	free(base);
	if (st != ST_OK)
		return st;
	p->nchunks = 1;
	bool more = true;
	long shift;
	while (p->nchunks < want && more && st == ST_OK)
		st = extend_forward(p, &more, &shift, e);
	size_t n = pager_rows(p);
	p->sel = n == 0 ? 0 : old_sel < n ? old_sel : n - 1;
	for (size_t i = 0; keep_id && i < n; i++)
		if (strcmp(row_at(p, i)->id, keep_id) == 0) {
			p->sel = i;
			break;
		}
	if (p->filter)
		p->total = -1;
	else if (backend_caps(p->backend) & CAP_COUNT) {
		long c;
		struct err ce = {0};
		if (backend_count(p->backend, NULL, &c, &ce) == ST_OK)
			p->total = c;
	}
	note_complete(p);
	return st;
}
