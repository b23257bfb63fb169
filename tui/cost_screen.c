/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The cost screen: the month's cost by service from Cost Explorer. Each
 * request costs 0.01 USD, so the screen opens on the cached answer and
 * asks AWS only when the admin says so (f, after a confirmation that
 * states the price). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api_client/cost.h"
#include "../core/buf.h"
#include "tui.h"

struct cost_screen {
	struct screen base;
	struct cost_report report;
	bool have;
	char err[520];
	int top;
};

static struct cost_screen *cs(struct screen *s) { return (struct cost_screen *)s; }

static void load(struct cost_screen *c, struct tui *t, long max_age)
{
	struct aws_http *h = tui_aws(t);
	if (!h) {
		snprintf(c->err, sizeof c->err, "AWS is not configured: add an [aws] section (see config.example)");
		return;
	}
	struct cost_report r;
	memset(&r, 0, sizeof r);
	struct err e = {0};
	struct cost_options o = {.max_age = max_age};
	enum status st = cost_month_to_date(h, &o, &r, &e);
	if (st == ST_OK) {
		cost_report_free(&c->report);
		c->report = r;
		c->have = true;
		c->err[0] = '\0';
	} else {
		cost_report_free(&r);
		snprintf(c->err, sizeof c->err, "%s", st == ST_NOT_FOUND
			 ? "nothing cached yet: f asks Cost Explorer (0.01 USD per request)" : e.msg);
	}
}

static void cost_draw(struct screen *s, struct tui *t, WINDOW *w, int h, int cols)
{
	struct cost_screen *c = cs(s);
	werase(w);
	tui_draw_text(w, 0, 0, "Cost this month by service (Cost Explorer; f fetches, 0.01 USD per request)", cols,
		      tui_attr(t, ROLE_HEADER), true);
	int y = 2;
	if (c->err[0])
		tui_draw_text(w, y++, 2, c->err, cols - 3, tui_attr(t, c->have ? ROLE_ERROR : ROLE_DIM), true);
	if (c->have) {
		char line[300];
		long mins = (long)(c->report.age / 60);
		snprintf(line, sizeof line, "%s to %s%s: %.2f %s%s; %s %ld min ago", c->report.start, c->report.end,
			 c->report.previous_month ? " (last month)" : "", c->report.total,
			 c->report.unit ? c->report.unit : "USD", c->report.estimated ? " (estimated)" : "",
			 c->report.from_cache ? "cached, fetched" : "fetched", mins);
		tui_draw_text(w, y++, 2, line, cols - 3, tui_attr(t, ROLE_LABEL), true);
		y++;
		for (size_t i = (size_t)c->top; i < c->report.n && y < h - 1; i++, y++) {
			char amount[64];
			snprintf(amount, sizeof amount, "%12.2f", c->report.services[i].amount);
			tui_draw_text(w, y, 2, amount, 12, tui_attr(t, ROLE_NORMAL), true);
			tui_draw_text(w, y, 16, c->report.services[i].name, cols - 17, tui_attr(t, ROLE_NORMAL), true);
		}
	}
	tui_draw_status(t, w, h - 1, cols, "cost");
}

static void fetch_answer(struct tui *t, void *ctx, bool yes)
{
	struct cost_screen *c = ctx;
	if (!yes) {
		tui_message(t, MSG_INFO, "not fetched");
		return;
	}
	load(c, t, COST_ALWAYS_FETCH);
	if (c->have && !c->err[0])
		tui_message(t, MSG_OK, "fetched from Cost Explorer (%u paid request%s)", c->report.requests,
			    c->report.requests == 1 ? "" : "s");
	else
		tui_message(t, MSG_ERROR, "%s", c->err);
}

static bool cost_action(struct screen *s, struct tui *t, enum action a)
{
	struct cost_screen *c = cs(s);
	switch (a) {
	case ACT_UP: if (c->top > 0) c->top--; return true;
	case ACT_DOWN: if (c->have && (size_t)c->top + 1 < c->report.n) c->top++; return true;
	case ACT_FETCH_COST:
		tui_confirm(t, "Ask Cost Explorer now? Each request costs 0.01 USD. y/N", fetch_answer, c);
		return true;
	case ACT_CANCEL:
		tui_pop(t);
		return true;
	default:
		return false;
	}
}

static void cost_destroy(struct screen *s)
{
	cost_report_free(&cs(s)->report);
	free(s);
}

static const struct screen_ops cost_ops = {
	.name = "cost",
	.scope = SCOPE_COST,
	.draw = cost_draw,
	.action = cost_action,
	.destroy = cost_destroy,
};

struct screen *cost_screen_new(struct tui *t)
{
	struct cost_screen *c = xcalloc(1, sizeof *c);
	c->base.ops = &cost_ops;
	load(c, t, COST_CACHE_ONLY);
	return &c->base;
}
