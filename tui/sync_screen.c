/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sync screen: a pulled snapshot's offline edits and their conflicts.
 *
 * It pushes the waiting edits to the snapshot's source (p) and shows each
 * conflict as base (as pulled), mine and theirs, field by field; the admin
 * keeps mine, takes theirs, or picks per field and saves the merge. Nothing
 * is overwritten without that choice. The work itself is offline/sync.c's;
 * this file only draws and dispatches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../offline/sync.h"
#include "tui.h"

static const enum employee_field fields[] = {EF_FULLNAME, EF_JOB_TITLE, EF_LOCATION, EF_BADGES};
#define NFIELDS 4

struct sync_screen {
	struct screen base;
	const char *path;
	struct backend *source;       /* opened on first use; owned */
	struct sync_conflicts conflicts;
	size_t cur;                   /* conflict shown */
	int field;
	bool pick_theirs[NFIELDS];    /* the merge being built */
	long waiting;
};

static struct sync_screen *ss(struct screen *s) { return (struct sync_screen *)s; }

static void reload(struct sync_screen *y, struct tui *t)
{
	struct err e = {0};
	sync_conflicts_free(&y->conflicts);
	if (sync_conflicts_load(y->path, &y->conflicts, &e) != ST_OK)
		tui_error(t, ST_FAIL, &e);
	long conflicts;
	char at[32];
	sync_status(y->path, &y->waiting, &conflicts, at, &e);
	if (y->cur >= y->conflicts.n)
		y->cur = y->conflicts.n ? y->conflicts.n - 1 : 0;
	memset(y->pick_theirs, 0, sizeof y->pick_theirs);
}

static bool ensure_source(struct sync_screen *y, struct tui *t)
{
	if (y->source)
		return true;
	const struct tui_options *o = tui_options_of(t);
	struct err e = {0};
	if (!o->open_source) {
		tui_message(t, MSG_ERROR, "no way to reach the snapshot's source from here");
		return false;
	}
	enum status st = o->open_source(o->open_source_ctx, &y->source, &e);
	if (st != ST_OK) {
		tui_error(t, st, &e);
		return false;
	}
	struct backend_waiter w = tui_backend(t)->waiter;
	backend_set_waiter(y->source, &w);
	return true;
}

static void field_text(const struct employee *r, enum employee_field f, struct buf *out)
{
	buf_reset(out);
	if (f == EF_BADGES)
		badges_to_line(&r->badges, out);
	else
		buf_puts(out, employee_get(r, f));
}

static void sync_draw(struct screen *s, struct tui *t, WINDOW *w, int h, int cols)
{
	struct sync_screen *y = ss(s);
	werase(w);
	char head[200];
	snprintf(head, sizeof head, "Sync: %ld edit%s waiting, %zu in conflict (p pushes)", y->waiting,
		 y->waiting == 1 ? "" : "s", y->conflicts.n);
	tui_draw_text(w, 0, 0, head, cols, tui_attr(t, ROLE_HEADER), true);
	if (y->conflicts.n == 0) {
		tui_draw_text(w, 2, 2, y->waiting ? "No conflicts. p pushes the waiting edits." : "Nothing to push.",
			      cols - 3, tui_attr(t, ROLE_DIM), false);
		tui_draw_status(t, w, h - 1, cols, "sync");
		return;
	}
	struct sync_conflict *c = &y->conflicts.v[y->cur];
	char sub[200];
	snprintf(sub, sizeof sub, "Conflict %zu of %zu (PgUp/PgDn): my %s; %s", y->cur + 1, y->conflicts.n, c->op,
		 !c->has_theirs ? "deleted at the source" : "changed at the source");
	tui_draw_text(w, 1, 0, sub, cols, tui_attr(t, ROLE_ERROR), true);
	int cw = (cols - 14) / 3;
	tui_draw_text(w, 3, 14, "Base (pulled)", cw - 1, tui_attr(t, ROLE_LABEL), true);
	tui_draw_text(w, 3, 14 + cw, "Mine", cw - 1, tui_attr(t, ROLE_LABEL), true);
	tui_draw_text(w, 3, 14 + 2 * cw, "Theirs (now)", cw, tui_attr(t, ROLE_LABEL), true);
	struct buf a = BUF_INIT, b = BUF_INIT, d = BUF_INIT;
	for (int i = 0; i < NFIELDS && 4 + i < h - 3; i++) {
		field_text(&c->base, fields[i], &a);
		field_text(&c->mine, fields[i], &b);
		field_text(&c->theirs, fields[i], &d);
		bool sel = i == y->field;
		tui_draw_text(w, 4 + i, 0, sel ? ">" : " ", 1, tui_attr(t, ROLE_LABEL), false);
		tui_draw_text(w, 4 + i, 2, employee_field_label(fields[i]), 11, tui_attr(t, ROLE_LABEL), true);
		tui_draw_text(w, 4 + i, 14, c->has_base ? a.data : "(new)", cw - 1, tui_attr(t, ROLE_DIM), true);
		attr_t mine_attr = tui_attr(t, !y->pick_theirs[i] ? ROLE_SELECTED : ROLE_NORMAL);
		attr_t their_attr = tui_attr(t, y->pick_theirs[i] ? ROLE_SELECTED : ROLE_NORMAL);
		tui_draw_text(w, 4 + i, 14 + cw, c->has_mine ? b.data : "(deleted)", cw - 1, mine_attr, true);
		tui_draw_text(w, 4 + i, 14 + 2 * cw, c->has_theirs ? d.data : "(deleted)", cw, their_attr, true);
	}
	buf_free(&a);
	buf_free(&b);
	buf_free(&d);
	tui_draw_text(w, 9 < h - 2 ? 9 : h - 2, 0,
		      "m keep mine   t take theirs   Left/Right pick a field, M save the merge   Esc back",
		      cols, tui_attr(t, ROLE_DIM), true);
	tui_draw_status(t, w, h - 1, cols, "sync");
}

static void push_now(struct sync_screen *y, struct tui *t)
{
	if (!ensure_source(y, t))
		return;
	struct sync_stats stats;
	struct err e = {0};
	enum status st = sync_push(y->source, y->path, NULL, NULL, &stats, &e);
	reload(y, t);
	if (st != ST_OK)
		tui_error(t, st, &e);
	else
		tui_message(t, stats.conflicts ? MSG_WARN : MSG_OK, "pushed %ld, %ld already applied, %ld in conflict",
			    stats.pushed, stats.already, stats.conflicts);
	list_screen_changed(t, NULL);
}

static void resolve(struct sync_screen *y, struct tui *t, enum sync_choice choice)
{
	if (y->conflicts.n == 0 || !ensure_source(y, t))
		return;
	struct sync_conflict *c = &y->conflicts.v[y->cur];
	struct employee merged;
	employee_init(&merged);
	if (choice == SYNC_MERGED) {
		if (!c->has_mine || !c->has_theirs) {
			employee_free(&merged);
			tui_message(t, MSG_WARN, "one side deleted the record: choose m or t");
			return;
		}
		employee_copy(&merged, &c->mine);
		for (int i = 0; i < NFIELDS; i++) {
			if (!y->pick_theirs[i])
				continue;
			if (fields[i] == EF_BADGES)
				strvec_copy(&merged.badges, &c->theirs.badges);
			else
				employee_set(&merged, fields[i], employee_get(&c->theirs, fields[i]));
		}
	}
	struct err e = {0};
	enum status st = sync_resolve(y->source, y->path, c->seq, choice, &merged, &e);
	employee_free(&merged);
	if (st != ST_OK) {
		tui_error(t, st, &e);
	} else {
		tui_message(t, MSG_OK, "%s", choice == SYNC_TAKE_THEIRS ? "took theirs" : "saved at the source");
		list_screen_changed(t, NULL);
	}
	reload(y, t);
}

static bool sync_action(struct screen *s, struct tui *t, enum action a)
{
	struct sync_screen *y = ss(s);
	switch (a) {
	case ACT_UP: y->field = (y->field + NFIELDS - 1) % NFIELDS; return true;
	case ACT_DOWN: y->field = (y->field + 1) % NFIELDS; return true;
	case ACT_PAGE_UP:
		if (y->cur > 0) {
			y->cur--;
			memset(y->pick_theirs, 0, sizeof y->pick_theirs);
		}
		return true;
	case ACT_PAGE_DOWN:
		if (y->cur + 1 < y->conflicts.n) {
			y->cur++;
			memset(y->pick_theirs, 0, sizeof y->pick_theirs);
		}
		return true;
	case ACT_PICK_MINE: y->pick_theirs[y->field] = false; return true;
	case ACT_PICK_THEIRS: y->pick_theirs[y->field] = true; return true;
	case ACT_KEEP_MINE: resolve(y, t, SYNC_KEEP_MINE); return true;
	case ACT_TAKE_THEIRS: resolve(y, t, SYNC_TAKE_THEIRS); return true;
	case ACT_MERGE: resolve(y, t, SYNC_MERGED); return true;
	case ACT_PUSH: push_now(y, t); return true;
	case ACT_RELOAD: reload(y, t); return true;
	case ACT_CANCEL: tui_pop(t); return true;
	default: return false;
	}
}

static void sync_destroy(struct screen *s)
{
	struct sync_screen *y = ss(s);
	sync_conflicts_free(&y->conflicts);
	if (y->source)
		backend_close(y->source);
	free(y);
}

static const struct screen_ops sync_ops = {
	.name = "sync",
	.scope = SCOPE_SYNC,
	.draw = sync_draw,
	.action = sync_action,
	.destroy = sync_destroy,
};

struct screen *sync_screen_new(struct tui *t, struct err *e)
{
	const struct tui_options *o = tui_options_of(t);
	if (!o->snapshot_path) {
		err_set(e, ST_UNSUPPORTED, "sync is for pulled snapshots");
		return NULL;
	}
	struct sync_screen *y = xcalloc(1, sizeof *y);
	y->base.ops = &sync_ops;
	y->path = o->snapshot_path;
	reload(y, t);
	return &y->base;
}
