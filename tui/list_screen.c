/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The list screen: the directory as a table (name, title, location,
 * badges), sorted by a column, filtered by an incremental search. Rows come
 * from the pager, which holds only a window around what is visible. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "pager.h"
#include "tui.h"

struct list_screen {
	struct screen base;
	struct pager pager;
	size_t top;        /* view index of the first visible row */
	int visible;       /* rows the last draw had room for */
	char *saved_filter; /* the filter before a search prompt opened */
	bool searching;
	bool stale;        /* the last search query was cancelled by typing */
};

static struct list_screen *ls(struct screen *s) { return (struct list_screen *)s; }

static struct list_screen *root_list(struct tui *t)
{
	struct screen *s = tui_root(t);
	return s && strcmp(s->ops->name, "list") == 0 ? ls(s) : NULL;
}

static void report(struct tui *t, enum status st, const struct err *e)
{
	if (st != ST_OK)
		tui_error(t, st, e);
}

/* Keep the selection on screen and enough rows loaded around it. */
static void follow(struct list_screen *l, struct tui *t)
{
	int vis = l->visible > 0 ? l->visible : 20;
	struct err e = {0};
	enum status st = pager_ensure(&l->pager, (size_t)vis, (size_t)vis, &e);
	report(t, st, &e);
	size_t sel = pager_view_selected(&l->pager);
	size_t rows = pager_rows(&l->pager);
	if (sel < l->top)
		l->top = sel;
	if (sel >= l->top + (size_t)vis)
		l->top = sel - (size_t)vis + 1;
	if (rows > (size_t)vis && l->top > rows - (size_t)vis)
		l->top = rows - (size_t)vis;
	if (rows <= (size_t)vis)
		l->top = 0;
}

static void list_move(struct list_screen *l, struct tui *t, long delta)
{
	struct err e = {0};
	size_t before = pager_view_selected(&l->pager);
	enum status st = pager_move(&l->pager, delta, &e);
	report(t, st, &e);
	/* The window may have moved under us: keep the selection's screen row. */
	size_t after = pager_view_selected(&l->pager);
	long row = (long)before - (long)l->top + (delta > 0 ? 1 : -1) * (long)labs(delta);
	if (row < 0)
		row = 0;
	if (row >= l->visible)
		row = l->visible - 1;
	l->top = after >= (size_t)row ? after - (size_t)row : 0;
	follow(l, t);
}

static const char *const col_titles[] = {"Name", "Job title", "Location", "Badges"};
static const enum sort_key col_sort[] = {SORT_FULLNAME, SORT_JOB_TITLE, SORT_LOCATION, SORT_COUNT};

static void column_widths(int cols, int w[4])
{
	int avail = cols - 3; /* one space between columns */
	w[0] = avail * 30 / 100;
	w[1] = avail * 26 / 100;
	w[2] = avail * 20 / 100;
	w[3] = avail - w[0] - w[1] - w[2];
}

static void draw_row(struct tui *t, WINDOW *win, int y, const struct employee *emp, const int w[4],
		     attr_t attr)
{
	struct buf badges = BUF_INIT;
	for (size_t i = 0; i < emp->badges.n; i++)
		buf_printf(&badges, "%s%s", i ? ", " : "", emp->badges.v[i]);
	const char *cells[4] = {emp->fullname, emp->job_title, emp->location, buf_str(&badges)};
	int x = 0;
	for (int c = 0; c < 4; c++) {
		tui_draw_text(win, y, x, cells[c], w[c], attr, true);
		x += w[c];
		if (c < 3) {
			wattrset(win, attr);
			mvwaddch(win, y, x, ' ');
			x++;
		}
	}
	wattrset(win, A_NORMAL);
	(void)t;
	buf_free(&badges);
}

static void list_draw(struct screen *s, struct tui *t, WINDOW *win, int h, int cols)
{
	struct list_screen *l = ls(s);
	l->visible = h - 2;
	int w[4];
	column_widths(cols, w);
	/* Header with the sort indicator. */
	wmove(win, 0, 0);
	wclrtoeol(win);
	int x = 0;
	for (int c = 0; c < 4; c++) {
		char title[64];
		const char *arrow = "";
		if (col_sort[c] == l->pager.sort)
			arrow = tui_ascii(t) ? (l->pager.desc ? " v" : " ^") : (l->pager.desc ? " ▼" : " ▲");
		snprintf(title, sizeof title, "%s%s", col_titles[c], arrow);
		tui_draw_text(win, 0, x, title, w[c] + (c < 3 ? 1 : 0), tui_attr(t, ROLE_HEADER), true);
		x += w[c] + 1;
	}
	follow(l, t);
	size_t rows = pager_rows(&l->pager);
	size_t sel = pager_view_selected(&l->pager);
	for (int y = 0; y < l->visible; y++) {
		size_t v = l->top + (size_t)y;
		wmove(win, y + 1, 0);
		wclrtoeol(win);
		if (v >= rows) {
			if (v == 0 && y == 0)
				tui_draw_text(win, 1, 1,
					      l->pager.filter ? "no employee matches this search (Esc clears it)"
							      : "the directory is empty (a adds an employee)",
					      cols - 1, tui_attr(t, ROLE_DIM), false);
			continue;
		}
		draw_row(t, win, y + 1, pager_row(&l->pager, v), w,
			 v == sel ? tui_attr(t, ROLE_SELECTED) : tui_attr(t, ROLE_NORMAL));
	}
	/* Status: position, count, sort, filter. */
	struct buf info = BUF_INIT;
	long pos = pager_position(&l->pager);
	long total = l->pager.total;
	if (rows == 0)
		buf_puts(&info, "0 rows");
	else if (pos >= 0 && total >= 0)
		buf_printf(&info, "%ld/%ld", pos + 1, total);
	else if (pos >= 0)
		buf_printf(&info, "%ld/?", pos + 1);
	else if (total >= 0)
		buf_printf(&info, "%ld rows", total);
	else /* walking from the end without a count: say how far from it */
		buf_printf(&info, "%ld from the end", (long)(l->pager.dropped + l->pager.sel) + 1);
	buf_printf(&info, " | sort %s %s", sort_key_name(l->pager.sort), l->pager.desc ? "desc" : "asc");
	if (l->pager.filter)
		buf_printf(&info, " | search \"%s\"", l->pager.filter);
	if (tui_backend(t)->server_read_only)
		buf_puts(&info, " | read-only (server)");
	else if (!(backend_caps(tui_backend(t)) & CAP_WRITE))
		buf_puts(&info, " | read-only");
	tui_draw_status(t, win, h - 1, cols, buf_str(&info));
	buf_free(&info);
}

static void apply_filter(struct list_screen *l, struct tui *t, const char *filter, bool typing)
{
	struct err e = {0};
	tui_set_cancel_on_input(t, typing);
	enum status st = pager_set_filter(&l->pager, filter, &e);
	tui_set_cancel_on_input(t, false);
	l->stale = st == ST_CANCELLED && typing;
	if (st != ST_OK && !l->stale)
		report(t, st, &e);
	l->top = 0;
}

static void count_matches(struct list_screen *l, struct tui *t)
{
	if (!l->pager.filter || l->pager.total >= 0)
		return;
	struct err e = {0};
	enum status st = pager_count(&l->pager, &e);
	if (st == ST_CANCELLED)
		tui_message(t, MSG_INFO, "counting cancelled");
	else
		report(t, st, &e);
}

static void search_change(struct tui *t, void *ctx, const char *line)
{
	apply_filter(ctx, t, line, true);
}

static void search_done(struct tui *t, void *ctx, const char *line)
{
	struct list_screen *l = ctx;
	l->searching = false;
	if (!line) { /* cancelled: back to what was there */
		apply_filter(l, t, l->saved_filter, false);
	} else if (l->stale || !l->pager.filter != !*line ||
		   (l->pager.filter && strcmp(l->pager.filter, line) != 0)) {
		apply_filter(l, t, line, false);
	}
	free(l->saved_filter);
	l->saved_filter = NULL;
	if (line)
		count_matches(l, t);
}

static void start_search(struct list_screen *l, struct tui *t)
{
	free(l->saved_filter);
	l->saved_filter = l->pager.filter ? xstrdup(l->pager.filter) : NULL;
	l->searching = true;
	struct prompt_spec spec = {.label = "/", .initial = l->pager.filter, .history = "search",
				   .on_change = search_change, .on_done = search_done, .ctx = l};
	tui_prompt(t, &spec);
}

static void sort_by(struct list_screen *l, struct tui *t, enum sort_key k, int desc)
{
	bool d = desc < 0 ? (l->pager.sort == k ? !l->pager.desc : false) : desc != 0;
	struct err e = {0};
	report(t, pager_set_sort(&l->pager, k, d, &e), &e);
	l->top = 0;
}

static bool list_action(struct screen *s, struct tui *t, enum action a)
{
	struct list_screen *l = ls(s);
	const struct employee *sel = pager_selected(&l->pager);
	struct err e = {0};
	int page = l->visible > 1 ? l->visible : 1;
	switch (a) {
	case ACT_UP: list_move(l, t, -1); return true;
	case ACT_DOWN: list_move(l, t, 1); return true;
	case ACT_PAGE_UP: list_move(l, t, -page); return true;
	case ACT_PAGE_DOWN: list_move(l, t, page); return true;
	case ACT_HOME:
		report(t, pager_home(&l->pager, &e), &e);
		l->top = 0;
		return true;
	case ACT_END:
		report(t, pager_end(&l->pager, &e), &e);
		l->top = 0;
		follow(l, t);
		return true;
	case ACT_SEARCH: start_search(l, t); return true;
	case ACT_CLEAR_SEARCH:
		if (l->pager.filter)
			apply_filter(l, t, NULL, false);
		return true;
	case ACT_SORT_NAME: sort_by(l, t, SORT_FULLNAME, -1); return true;
	case ACT_SORT_TITLE: sort_by(l, t, SORT_JOB_TITLE, -1); return true;
	case ACT_SORT_LOCATION: sort_by(l, t, SORT_LOCATION, -1); return true;
	case ACT_REVERSE: sort_by(l, t, l->pager.sort, !l->pager.desc); return true;
	case ACT_OPEN:
		if (sel)
			tui_push(t, detail_screen_new(sel));
		return true;
	case ACT_ADD: tui_push(t, form_screen_new(NULL)); return true;
	case ACT_EDIT:
		if (sel)
			tui_push(t, form_screen_new(sel));
		return true;
	case ACT_DELETE:
		if (sel)
			tui_delete_employee(t, sel);
		return true;
	case ACT_SYNC: {
		if (!(backend_caps(tui_backend(t)) & CAP_JOURNAL)) {
			tui_message(t, MSG_WARN, "sync is for pulled snapshots (empdir-tui snapshot pull SOURCE FILE)");
			return true;
		}
		struct screen *sync = sync_screen_new(t, &e);
		if (sync)
			tui_push(t, sync);
		else
			tui_error(t, ST_FAIL, &e);
		return true;
	}
	case ACT_RELOAD:
		report(t, pager_reload(&l->pager, sel ? sel->id : NULL, &e), &e);
		follow(l, t);
		if (l->pager.filter)
			count_matches(l, t);
		tui_message(t, MSG_INFO, "reloaded");
		return true;
	default:
		return false;
	}
}

static void list_relayout(struct screen *s, struct tui *t)
{
	struct list_screen *l = ls(s);
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	(void)cols;
	l->visible = rows > 4 ? rows - 3 : 1;
	/* A taller terminal needs bigger chunks to keep a screen either side. */
	if (l->pager.chunk < l->visible * 2)
		l->pager.chunk = l->visible * 2 > 500 ? 500 : l->visible * 2;
	follow(l, t);
}

static void list_destroy(struct screen *s)
{
	struct list_screen *l = ls(s);
	pager_free(&l->pager);
	free(l->saved_filter);
	free(l);
}

static const struct screen_ops list_ops = {
	.name = "list",
	.scope = SCOPE_LIST,
	.draw = list_draw,
	.action = list_action,
	.relayout = list_relayout,
	.destroy = list_destroy,
};

struct screen *list_screen_new(struct tui *t, int page_size, struct err *e)
{
	struct list_screen *l = xcalloc(1, sizeof *l);
	l->base.ops = &list_ops;
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	(void)cols;
	l->visible = rows > 4 ? rows - 3 : 20;
	/* Chunks of two screens: three of them cover a screen either side. */
	int chunk = page_size > 0 ? page_size : l->visible * 2;
	if (chunk < l->visible + 1)
		chunk = l->visible + 1; /* three chunks must cover a screen either side */
	pager_init(&l->pager, tui_backend(t), chunk > 500 ? 500 : chunk < 20 ? 20 : chunk);
	if (pager_reset(&l->pager, e) != ST_OK) {
		list_destroy(&l->base);
		return NULL;
	}
	return &l->base;
}

void list_screen_changed(struct tui *t, const char *keep_id)
{
	struct list_screen *l = root_list(t);
	if (!l)
		return;
	struct err e = {0};
	report(t, pager_reload(&l->pager, keep_id, &e), &e);
	follow(l, t);
}

void list_screen_search(struct tui *t, const char *filter)
{
	struct list_screen *l = root_list(t);
	if (!l)
		return;
	apply_filter(l, t, filter, false);
	count_matches(l, t);
}

void list_screen_sort(struct tui *t, enum sort_key k, int desc)
{
	struct list_screen *l = root_list(t);
	if (l)
		sort_by(l, t, k, desc);
}
