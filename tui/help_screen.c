/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The help screen, generated from the action table (tui/actions.h), so it
 * always says what the keys really do. Write actions are marked as refused
 * when the connection is read-only. */
#include <stdio.h>
#include <stdlib.h>

#include "../core/buf.h"
#include "tui.h"

struct help_screen {
	struct screen base;
	int top;
	int lines; /* lines the last draw produced */
};

static const unsigned groups[] = {SCOPE_GLOBAL, SCOPE_LIST, SCOPE_DETAIL, SCOPE_FORM, SCOPE_CONFLICT, SCOPE_SYNC, SCOPE_ALARMS, SCOPE_COST};

static void help_draw(struct screen *s, struct tui *t, WINDOW *w, int h, int cols)
{
	struct help_screen *hs = (struct help_screen *)s;
	werase(w);
	tui_draw_text(w, 0, 0, "Keys (Esc or q closes this help; : opens the command line)", cols,
		      tui_attr(t, ROLE_HEADER), true);
	bool ro = tui_read_only(t);
	int line = 0, y = 1;
	for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
		for (int pass = 0; pass < 2; pass++) {
			for (int a = 1; a < ACT_COUNT; a++) {
				const struct action_def *d = action_def((enum action)a);
				if (!(d->scope & groups[g]))
					continue;
				if (pass == 0) { /* the group title, once */
					if (line >= hs->top && y < h - 1)
						tui_draw_text(w, y++, 0, action_scope_title(groups[g]), cols,
							      tui_attr(t, ROLE_LABEL), true);
					line++;
					break;
				}
				if (line >= hs->top && y < h - 1) {
					char text[200];
					snprintf(text, sizeof text, "%s%s", d->help,
						 (d->flags & ACT_WRITES) && ro ? " (refused: read-only)" : "");
					tui_draw_text(w, y, 2, d->keys_label, 18, tui_attr(t, ROLE_NORMAL), true);
					tui_draw_text(w, y, 21, text, cols - 22,
						      tui_attr(t, (d->flags & ACT_WRITES) && ro ? ROLE_DIM : ROLE_NORMAL), true);
					y++;
				}
				line++;
			}
		}
	}
	hs->lines = line;
	tui_draw_status(t, w, h - 1, cols, "help");
}

static bool help_action(struct screen *s, struct tui *t, enum action a)
{
	struct help_screen *hs = (struct help_screen *)s;
	switch (a) {
	case ACT_UP: if (hs->top > 0) hs->top--; return true;
	case ACT_DOWN: if (hs->top < hs->lines - 1) hs->top++; return true;
	case ACT_PAGE_UP: hs->top = hs->top > 10 ? hs->top - 10 : 0; return true;
	case ACT_PAGE_DOWN: if (hs->top + 10 < hs->lines) hs->top += 10; return true;
	case ACT_HOME: hs->top = 0; return true;
	case ACT_END: hs->top = hs->lines > 10 ? hs->lines - 10 : 0; return true;
	case ACT_CANCEL:
	case ACT_QUIT:
	case ACT_HELP:
		tui_pop(t);
		return true;
	default:
		return false;
	}
}

static void help_destroy(struct screen *s) { free(s); }

static const struct screen_ops help_ops = {
	.name = "help",
	.scope = SCOPE_HELP,
	.draw = help_draw,
	.action = help_action,
	.destroy = help_destroy,
};

struct screen *help_screen_new(void)
{
	struct help_screen *h = xcalloc(1, sizeof *h);
	h->base.ops = &help_ops;
	return &h->base;
}
