/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The detail screen: one employee, every field in full, and the delete
 * confirmation the list and detail screens share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "tui.h"

struct detail_screen {
	struct screen base;
	struct employee emp;
};

static struct detail_screen *ds(struct screen *s) { return (struct detail_screen *)s; }

static void detail_draw(struct screen *s, struct tui *t, WINDOW *w, int h, int cols)
{
	struct detail_screen *d = ds(s);
	werase(w);
	tui_draw_text(w, 0, 0, "Employee", cols, tui_attr(t, ROLE_HEADER), true);
	const char *labels[] = {"Name", "Job title", "Location", "Id"};
	const char *values[] = {d->emp.fullname, d->emp.job_title, d->emp.location, d->emp.id};
	int y = 2;
	for (int i = 0; i < 4 && y < h - 1; i++, y++) {
		tui_draw_text(w, y, 2, labels[i], 12, tui_attr(t, ROLE_LABEL), true);
		tui_draw_text(w, y, 15, values[i], cols - 16, tui_attr(t, ROLE_NORMAL), false);
	}
	if (y < h - 1)
		tui_draw_text(w, y, 2, "Badges", 12, tui_attr(t, ROLE_LABEL), true);
	if (d->emp.badges.n == 0 && y < h - 1)
		tui_draw_text(w, y, 15, "(none)", cols - 16, tui_attr(t, ROLE_DIM), false);
	for (size_t i = 0; i < d->emp.badges.n && y < h - 1; i++, y++)
		tui_draw_text(w, y, 15, d->emp.badges.v[i], cols - 16, tui_attr(t, ROLE_NORMAL), false);
	tui_draw_status(t, w, h - 1, cols, d->emp.fullname);
}

static bool detail_action(struct screen *s, struct tui *t, enum action a)
{
	struct detail_screen *d = ds(s);
	struct err e = {0};
	switch (a) {
	case ACT_EDIT:
		tui_push(t, form_screen_new(&d->emp));
		return true;
	case ACT_DELETE:
		tui_delete_employee(t, &d->emp);
		return true;
	case ACT_RELOAD: {
		struct employee fresh;
		enum status st = backend_get(tui_backend(t), d->emp.id, &fresh, &e);
		if (st == ST_OK) {
			employee_free(&d->emp);
			d->emp = fresh;
			tui_message(t, MSG_INFO, "reloaded");
		} else {
			employee_free(&fresh);
			tui_error(t, st, &e);
		}
		return true;
	}
	case ACT_CANCEL:
		tui_pop(t);
		return true;
	default:
		return false;
	}
}

static void detail_relayout(struct screen *s, struct tui *t)
{
	/* Back from an edit: show what is stored now. */
	struct detail_screen *d = ds(s);
	struct employee fresh;
	struct err e = {0};
	if (backend_get(tui_backend(t), d->emp.id, &fresh, &e) == ST_OK) {
		employee_free(&d->emp);
		d->emp = fresh;
	} else {
		employee_free(&fresh);
	}
}

static void detail_destroy(struct screen *s)
{
	employee_free(&ds(s)->emp);
	free(s);
}

static const struct screen_ops detail_ops = {
	.name = "detail",
	.scope = SCOPE_DETAIL,
	.draw = detail_draw,
	.action = detail_action,
	.relayout = detail_relayout,
	.destroy = detail_destroy,
};

struct screen *detail_screen_new(const struct employee *emp)
{
	struct detail_screen *d = xcalloc(1, sizeof *d);
	d->base.ops = &detail_ops;
	employee_init(&d->emp);
	employee_copy(&d->emp, emp);
	return &d->base;
}

/* ---- delete, with confirmation ---- */

struct pending_delete {
	struct employee emp;
};

static void delete_answer(struct tui *t, void *ctx, bool yes);

static void delete_done(struct tui *t, struct pending_delete *p)
{
	tui_message(t, MSG_OK, "deleted %s", p->emp.fullname);
	list_screen_changed(t, NULL);
}

static void delete_answer(struct tui *t, void *ctx, bool yes)
{
	struct pending_delete *p = ctx;
	if (!yes) {
		tui_message(t, MSG_INFO, "not deleted");
		employee_free(&p->emp);
		free(p);
		return;
	}
	struct employee current;
	struct err e = {0};
	enum status st = backend_remove(tui_backend(t), p->emp.id, p->emp.version, &current, &e);
	if (st == ST_OK) {
		employee_free(&current);
		delete_done(t, p);
		tui_pop_screen_named(t, "detail");
	} else if (st == ST_CONFLICT) {
		/* Show what it is now and ask again, against the current version. */
		char q[400];
		snprintf(q, sizeof q, "%s was changed since you read it (now: %s, %s). Delete it anyway? y/N",
			 current.fullname, current.job_title, current.location);
		employee_free(&p->emp);
		p->emp = current;
		list_screen_changed(t, p->emp.id);
		tui_confirm(t, q, delete_answer, p);
		return;
	} else if (st == ST_NOT_FOUND) {
		employee_free(&current);
		tui_message(t, MSG_WARN, "%s was already deleted by someone else", p->emp.fullname);
		list_screen_changed(t, NULL);
		tui_pop_screen_named(t, "detail");
	} else {
		employee_free(&current);
		tui_error(t, st, &e);
	}
	employee_free(&p->emp);
	free(p);
}

void tui_delete_employee(struct tui *t, const struct employee *emp)
{
	struct pending_delete *p = xcalloc(1, sizeof *p);
	employee_init(&p->emp);
	employee_copy(&p->emp, emp);
	/* The question shown on screen (tui_confirm sanitises it); the delete
	 * itself goes through backend_remove with bound parameters. */
	char question[400];
	snprintf(question, sizeof question, "Delete %s (%s, %s)? y/N", emp->fullname, emp->job_title,
		 emp->location);
	tui_confirm(t, question, delete_answer, p);
}
