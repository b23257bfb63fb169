/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The add/edit form, and what happens when saving meets someone else's
 * change (the conflict view).
 *
 * Each field is edited in the readline prompt (Enter, or just start
 * typing); the contract's rules are checked as you go and the message is
 * drawn beside the field. Saving sends the version read when editing began;
 * a conflict never overwrites: the form turns into a side-by-side view of
 * their record and yours, and the admin chooses to save theirs over,
 * discard theirs... or edit again on top of the current record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/text.h"
#include "tui.h"

static const enum employee_field order[] = {EF_FULLNAME, EF_JOB_TITLE, EF_LOCATION, EF_BADGES};
#define NFIELDS 4

struct form_screen {
	struct screen base;
	bool adding;
	char *value[NFIELDS];       /* as typed (badges as "a, b") */
	struct employee orig;       /* what editing started from (id, version) */
	int field;
	bool dirty;
	bool tried;                 /* show every problem after a save attempt */
	struct employee_problems problems;
	/* conflict view */
	bool conflict;
	struct employee theirs;
};

static struct form_screen *fs(struct screen *s) { return (struct form_screen *)s; }

static void to_employee(struct form_screen *f, struct employee *out)
{
	employee_init(out);
	snprintf(out->id, sizeof out->id, "%s", f->orig.id);
	snprintf(out->version, sizeof out->version, "%s", f->orig.version);
	for (int i = 0; i < NFIELDS; i++) {
		if (order[i] == EF_BADGES)
			badges_from_line(f->value[i], &out->badges);
		else
			employee_set(out, order[i], f->value[i]);
	}
}

static void validate(struct form_screen *f)
{
	struct employee e;
	to_employee(f, &e);
	employee_normalize(&e, &f->problems);
	employee_free(&e);
}

static void set_values(struct form_screen *f, const struct employee *e)
{
	for (int i = 0; i < NFIELDS; i++) {
		free(f->value[i]);
		if (order[i] == EF_BADGES) {
			struct buf b = BUF_INIT;
			badges_to_line(&e->badges, &b);
			f->value[i] = buf_steal(&b);
		} else {
			f->value[i] = xstrdup(employee_get(e, order[i]));
		}
	}
}

static void draw_conflict(struct form_screen *f, struct tui *t, WINDOW *w, int h, int cols)
{
	werase(w);
	tui_draw_text(w, 0, 0, "Someone else changed this employee while you edited it. Nothing was saved.",
		      cols, tui_attr(t, ROLE_ERROR), true);
	int half = (cols - 14) / 2;
	tui_draw_text(w, 2, 14, "Theirs (saved now)", half - 1, tui_attr(t, ROLE_HEADER), true);
	tui_draw_text(w, 2, 14 + half, "Yours (not saved)", half, tui_attr(t, ROLE_HEADER), true);
	struct employee mine;
	to_employee(f, &mine);
	for (int i = 0; i < NFIELDS && 3 + i < h - 2; i++) {
		struct buf a = BUF_INIT, b = BUF_INIT;
		if (order[i] == EF_BADGES) {
			badges_to_line(&f->theirs.badges, &a);
			badges_to_line(&mine.badges, &b);
		} else {
			buf_puts(&a, employee_get(&f->theirs, order[i]));
			buf_puts(&b, employee_get(&mine, order[i]));
		}
		bool differs = strcmp(buf_str(&a), buf_str(&b)) != 0;
		tui_draw_text(w, 3 + i, 0, employee_field_label(order[i]), 13,
			      tui_attr(t, differs ? ROLE_ERROR : ROLE_LABEL), true);
		tui_draw_text(w, 3 + i, 14, buf_str(&a), half - 1, tui_attr(t, ROLE_NORMAL), true);
		tui_draw_text(w, 3 + i, 14 + half, buf_str(&b), half, tui_attr(t, ROLE_NORMAL), true);
		buf_free(&a);
		buf_free(&b);
	}
	employee_free(&mine);
	tui_draw_text(w, 9 < h - 2 ? 9 : h - 2, 0,
		      "m: save yours over theirs   t: keep theirs (discard yours)   e: edit yours again",
		      cols, tui_attr(t, ROLE_DIM), true);
	tui_draw_status(t, w, h - 1, cols, "conflict");
}

static void form_draw(struct screen *s, struct tui *t, WINDOW *w, int h, int cols)
{
	struct form_screen *f = fs(s);
	if (f->conflict) {
		draw_conflict(f, t, w, h, cols);
		return;
	}
	werase(w);
	tui_draw_text(w, 0, 0, f->adding ? "Add an employee" : "Edit employee", cols, tui_attr(t, ROLE_HEADER), true);
	int vw = cols > 80 ? 50 : cols - 16 - 20;
	if (vw < 10)
		vw = 10;
	for (int i = 0; i < NFIELDS; i++) {
		int y = 2 + 2 * i;
		if (y >= h - 2)
			break;
		bool selected = i == f->field;
		tui_draw_text(w, y, 0, selected ? ">" : " ", 1, tui_attr(t, ROLE_LABEL), false);
		tui_draw_text(w, y, 2, employee_field_label(order[i]), 12, tui_attr(t, ROLE_LABEL), true);
		tui_draw_text(w, y, 15, f->value[i], vw, tui_attr(t, selected ? ROLE_SELECTED : ROLE_NORMAL), true);
		const char *msg = f->problems.msg[order[i]];
		if (msg[0] && (f->tried || selected || f->dirty))
			tui_draw_text(w, y, 16 + vw, msg, cols - 17 - vw, tui_attr(t, ROLE_ERROR), false);
	}
	if (2 + 2 * NFIELDS < h - 2)
		tui_draw_text(w, 2 + 2 * NFIELDS, 2,
			      "Badges are separated by commas (\\, for a comma inside one).", cols - 3,
			      tui_attr(t, ROLE_DIM), false);
	tui_draw_status(t, w, h - 1, cols, f->dirty ? "modified" : "");
}

static void field_done(struct tui *t, void *ctx, const char *line)
{
	struct form_screen *f = ctx;
	(void)t;
	if (!line)
		return;
	if (strcmp(line, f->value[f->field]) != 0) {
		free(f->value[f->field]);
		f->value[f->field] = xstrdup(line);
		f->dirty = true;
	}
	validate(f);
	if (!f->problems.msg[order[f->field]][0] && f->field < NFIELDS - 1)
		f->field++;
}

static void edit_field(struct form_screen *f, struct tui *t, const char *append)
{
	char label[64];
	snprintf(label, sizeof label, "%s: ", employee_field_label(order[f->field]));
	struct buf init = BUF_INIT;
	buf_puts(&init, f->value[f->field]);
	if (append)
		buf_puts(&init, append);
	struct prompt_spec spec = {.label = label, .initial = buf_str(&init), .history = "field",
				   .on_done = field_done, .ctx = f};
	tui_prompt(t, &spec);
	buf_free(&init);
}

static void saved(struct form_screen *f, struct tui *t, const struct employee *stored)
{
	tui_message(t, MSG_OK, "saved %s", stored->fullname);
	char id[EMP_ID_MAX + 1];
	snprintf(id, sizeof id, "%s", stored->id);
	(void)f;
	tui_pop(t); /* the form is gone after this */
	list_screen_changed(t, id);
}

static void save_as_new(struct tui *t, void *ctx, bool yes);

static void save(struct form_screen *f, struct tui *t, bool over_theirs)
{
	struct employee rec, result;
	to_employee(f, &rec);
	if (over_theirs)
		snprintf(rec.version, sizeof rec.version, "%s", f->theirs.version);
	struct err e = {0};
	struct backend *b = tui_backend(t);
	enum status st = f->adding ? backend_create(b, &rec, &result, &e) : backend_replace(b, &rec, &result, &e);
	employee_free(&rec);
	switch (st) {
	case ST_OK:
		saved(f, t, &result);
		break;
	case ST_INVALID:
		f->tried = true;
		validate(f);
		for (int i = 0; i < NFIELDS; i++)
			if (f->problems.msg[order[i]][0]) {
				f->field = i;
				break;
			}
		tui_error(t, st, &e);
		break;
	case ST_CONFLICT:
		employee_free(&f->theirs);
		f->theirs = result;
		employee_init(&result);
		f->conflict = true;
		tui_message(t, MSG_WARN, "not saved: changed by someone else; choose m, t or e");
		break;
	case ST_NOT_FOUND:
		tui_confirm(t, "Not saved: this employee was deleted by someone else. Add yours as a new employee? y/N",
			    save_as_new, f);
		break;
	default:
		tui_error(t, st, &e);
		break;
	}
	employee_free(&result);
}

static void save_as_new(struct tui *t, void *ctx, bool yes)
{
	struct form_screen *f = ctx;
	if (!yes) {
		tui_message(t, MSG_INFO, "not saved; your changes are still in the form");
		return;
	}
	f->adding = true;
	f->orig.id[0] = '\0';
	f->orig.version[0] = '\0';
	save(f, t, false);
}

static void discard_answer(struct tui *t, void *ctx, bool yes)
{
	(void)ctx;
	if (yes)
		tui_pop(t);
}

static bool conflict_action(struct form_screen *f, struct tui *t, enum action a)
{
	switch (a) {
	case ACT_KEEP_MINE:
		f->conflict = false;
		save(f, t, true);
		return true;
	case ACT_TAKE_THEIRS: {
		char id[EMP_ID_MAX + 1];
		snprintf(id, sizeof id, "%s", f->theirs.id);
		tui_message(t, MSG_INFO, "kept their version; yours was discarded");
		tui_pop(t);
		list_screen_changed(t, id);
		return true;
	}
	case ACT_EDIT_AGAIN:
	case ACT_CANCEL:
		/* Yours stays in the form, now based on their version. */
		snprintf(f->orig.version, sizeof f->orig.version, "%s", f->theirs.version);
		f->conflict = false;
		tui_message(t, MSG_INFO, "editing yours on top of the current record; ^S saves");
		return true;
	case ACT_QUIT:
		return true; /* a decision is needed first */
	default:
		return false;
	}
}

static bool form_action(struct screen *s, struct tui *t, enum action a)
{
	struct form_screen *f = fs(s);
	if (f->conflict)
		return conflict_action(f, t, a);
	switch (a) {
	case ACT_UP:
		f->field = (f->field + NFIELDS - 1) % NFIELDS;
		return true;
	case ACT_DOWN:
		f->field = (f->field + 1) % NFIELDS;
		return true;
	case ACT_FIELD_EDIT:
		edit_field(f, t, NULL);
		return true;
	case ACT_SAVE:
		save(f, t, false);
		return true;
	case ACT_CANCEL:
	case ACT_QUIT:
		if (f->dirty)
			tui_confirm(t, "Discard your changes? y/N", discard_answer, f);
		else
			tui_pop(t);
		return true;
	default:
		return false;
	}
}

/* Typing on a field starts editing it with what was typed. */
static bool form_key(struct screen *s, struct tui *t, int key)
{
	struct form_screen *f = fs(s);
	if (f->conflict || key < 0x20 || key == 0x7f || key > 0x10ffff)
		return false;
	char mb[8] = {0};
	size_t n = utf8_encode((uint32_t)key, mb);
	if (!n)
		return false;
	edit_field(f, t, mb);
	return true;
}

static void form_destroy(struct screen *s)
{
	struct form_screen *f = fs(s);
	for (int i = 0; i < NFIELDS; i++)
		free(f->value[i]);
	employee_free(&f->orig);
	employee_free(&f->theirs);
	free(f);
}

static const struct screen_ops form_ops = {
	.name = "form",
	.scope = SCOPE_FORM | SCOPE_CONFLICT,
	.draw = form_draw,
	.action = form_action,
	.key = form_key,
	.text_input = true,
	.destroy = form_destroy,
};

struct screen *form_screen_new(const struct employee *emp)
{
	struct form_screen *f = xcalloc(1, sizeof *f);
	f->base.ops = &form_ops;
	employee_init(&f->orig);
	employee_init(&f->theirs);
	f->adding = emp == NULL;
	if (emp)
		employee_copy(&f->orig, emp);
	set_values(f, &f->orig);
	validate(f);
	return &f->base;
}
