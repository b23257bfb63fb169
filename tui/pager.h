/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pager: the list screen's model. It holds only a window of rows, never the
 * whole directory: at most PAGER_CHUNKS chunks of `chunk` rows fetched with
 * keyset cursors, plus a stack of the cursors of chunks it let go, so it can
 * walk back. "End" flips it to the reversed query and walks from the other
 * end, so no position is ever expensive to reach.
 *
 * Rows are in query order inside the window; the view index (what the
 * screen shows, top to bottom) maps onto it. The pager owns its rows; the
 * employee a caller gets from pager_selected() stays valid until the next
 * pager call. No ncurses here: the unit tests drive it directly. */
#ifndef EMPDIR_PAGER_H
#define EMPDIR_PAGER_H

#include "../api_client/backend.h"

#define PAGER_CHUNKS 3

struct pager_chunk {
	char *base;          /* cursor this chunk was fetched after; NULL = start */
	struct page page;    /* its rows and next cursor */
};

struct pager_saved {
	char *base;
	size_t n;            /* rows in the chunk, for the position */
};

struct pager {
	struct backend *backend;
	enum sort_key sort;
	bool desc;
	char *filter;        /* owned; NULL for none */
	int chunk;           /* rows per fetch */
	bool from_end;       /* walking the reversed query (after End) */
	struct pager_chunk chunks[PAGER_CHUNKS];
	int nchunks;
	struct pager_saved *stack;
	size_t nstack, capstack;
	size_t dropped;      /* rows in the chunks on the stack */
	size_t sel;          /* selection, as a window index in query order */
	long total;          /* rows matching, -1 unknown */
};

void pager_init(struct pager *p, struct backend *b, int chunk);
void pager_free(struct pager *p);
/* Start again from the first row (with the current sort and filter). */
enum status pager_reset(struct pager *p, struct err *e);
enum status pager_set_sort(struct pager *p, enum sort_key k, bool desc, struct err *e);
enum status pager_set_filter(struct pager *p, const char *filter, struct err *e);
/* Move the selection by delta rows in view order (positive: down). */
enum status pager_move(struct pager *p, long delta, struct err *e);
enum status pager_home(struct pager *p, struct err *e);
enum status pager_end(struct pager *p, struct err *e);
/* Make sure `after` rows below and `before` rows above the selection (in
 * view order) are in the window when the data has them. */
enum status pager_ensure(struct pager *p, size_t after, size_t before, struct err *e);
/* Fetch the window again (after a write), keeping the selection near id. */
enum status pager_reload(struct pager *p, const char *keep_id, struct err *e);
/* Count the matching rows now (may be slow on a big filtered scan). */
enum status pager_count(struct pager *p, struct err *e);

size_t pager_rows(const struct pager *p);                 /* rows in the window */
const struct employee *pager_row(const struct pager *p, size_t view_index);
size_t pager_view_selected(const struct pager *p);
const struct employee *pager_selected(const struct pager *p);
/* Position of the selection from the top of the whole list (0-based), or
 * -1 when unknown. */
long pager_position(const struct pager *p);

#endif
