/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tui: the engine every screen runs in.
 *
 * One struct tui holds the terminal, the open backend, the screen stack, the
 * status bar and the readline prompt. Screens are static struct screen_ops
 * (list, detail, form, conflict, help); the engine turns keys into actions
 * through the action table and hands them to the screen on top. Screens
 * talk to data only through the backend interface and to each other only
 * by pushing and popping screens. The engine owns every screen it is given
 * (tui_push) and destroys it when popped. */
#ifndef EMPDIR_TUI_H
#define EMPDIR_TUI_H

#include <stdbool.h>
#include <stddef.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

#include "../api_client/backend.h"
#include "../api_client/cloudwatch.h"
#include "actions.h"

struct aws_settings;

struct tui;
struct screen;

struct screen_ops {
	const char *name;
	unsigned scope; /* which actions apply (enum action_scope) */
	/* Draw into rows [0, h) of w, which is cols wide. */
	void (*draw)(struct screen *s, struct tui *t, WINDOW *w, int h, int cols);
	/* Handle an action; return false when the screen does not know it. */
	bool (*action)(struct screen *s, struct tui *t, enum action a);
	/* A key no action claims (typing into a form, say); may be NULL. */
	bool (*key)(struct screen *s, struct tui *t, int key);
	/* The terminal was resized or a screen above was closed. May be NULL. */
	void (*relayout)(struct screen *s, struct tui *t);
	void (*destroy)(struct screen *s);
	/* Called about once a second (automatic refresh, countdowns); may be NULL. */
	void (*timer)(struct screen *s, struct tui *t);
	/* Printable keys go to key() before the action table (typing in a form). */
	bool text_input;
};

struct screen {
	const struct screen_ops *ops;
	struct screen *below;
};

enum msg_level { MSG_INFO, MSG_OK, MSG_WARN, MSG_ERROR };

struct tui_options {
	bool no_color;
	bool ascii;
	int history_size;   /* 0: no history files */
	int page_size;      /* rows per fetch; 0: two screens' worth */
	/* A pulled snapshot's file, and how to open the source it came from
	 * (for the sync screen); NULL when there is none. */
	const char *snapshot_path;
	enum status (*open_source)(void *ctx, struct backend **out, struct err *e);
	void *open_source_ctx;
	/* AWS for the alarm and cost screens (NULL: not configured), and
	 * whether the program runs for them alone (--alarms, no data source). */
	struct aws_http *aws;
	const struct aws_settings *aws_settings;
	bool alarms_only;
	const char *state_dir;
};

/* Run the program on an open backend until the user quits or a signal ends
 * it. Returns the exit status (0 ok, 4 terminal unusable). */
int tui_run(struct backend *b, const struct tui_options *opt);

void tui_push(struct tui *t, struct screen *s);
void tui_pop(struct tui *t);
void tui_quit(struct tui *t);
/* Pop the top screen if it is the named one. */
void tui_pop_screen_named(struct tui *t, const char *name);
/* Run an action as if its key was pressed (for ':' commands). */
void tui_action(struct tui *t, enum action a);
struct backend *tui_backend(struct tui *t);
bool tui_read_only(struct tui *t);
/* A message in the status line (formatted text is sanitised). */
void tui_message(struct tui *t, enum msg_level lv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Report a failed backend call: its message, with the level its status needs. */
void tui_error(struct tui *t, enum status st, const struct err *e);
/* Ask a yes/no question in the status line; cb runs with the answer. */
void tui_confirm(struct tui *t, const char *question, void (*cb)(struct tui *, void *, bool),
		 void *ctx);

/* A one-line readline prompt at the bottom. on_change (may be NULL) runs
 * after every edit; on_done runs once with the final line, or NULL when
 * cancelled. Each history name ("search", "command", "field") has its own
 * history. */
struct prompt_spec {
	const char *label;
	const char *initial;
	const char *history;
	void (*on_change)(struct tui *t, void *ctx, const char *line);
	void (*on_done)(struct tui *t, void *ctx, const char *line);
	void *ctx;
	bool complete_commands;
};
void tui_prompt(struct tui *t, const struct prompt_spec *spec);

/* Drawing helpers: untrusted text is sanitised and fitted to cols. */
void tui_draw_text(WINDOW *w, int y, int x, const char *untrusted, int cols, attr_t attr, bool pad);
attr_t tui_attr(struct tui *t, int role); /* roles below */
enum { ROLE_NORMAL, ROLE_HEADER, ROLE_SELECTED, ROLE_STATUS, ROLE_ERROR, ROLE_OK, ROLE_DIM, ROLE_LABEL };
bool tui_ascii(struct tui *t);

/* Screens (one file each in tui/). */
struct screen *list_screen_new(struct tui *t, int page_size, struct err *e);
struct screen *detail_screen_new(const struct employee *emp);
/* emp NULL: add a new employee. */
struct screen *form_screen_new(const struct employee *emp);
struct screen *help_screen_new(void);
struct screen *sync_screen_new(struct tui *t, struct err *e);
struct screen *alarms_screen_new(struct tui *t);
struct screen *cost_screen_new(struct tui *t);
struct aws_http *tui_aws(struct tui *t);
const struct aws_settings *tui_aws_settings(struct tui *t);
/* The alarm counts, for the status-bar badge every screen shows. */
void tui_set_alarm_summary(struct tui *t, struct cw_summary s);
/* The options the program was started with (for the sync screen). */
const struct tui_options *tui_options_of(struct tui *t);

/* The list screen's hooks for other screens: re-read after a write. */
void list_screen_changed(struct tui *t, const char *keep_id);
/* The list screen, found from anywhere (it is the bottom of the stack). */
void list_screen_search(struct tui *t, const char *filter);
void list_screen_sort(struct tui *t, enum sort_key k, int desc); /* desc -1: toggle when same key */
struct screen *tui_root(struct tui *t);
/* Run a ':' command line. */
void commands_run(struct tui *t, const char *line);
/* Completion candidates for the command line (for readline). */
char *commands_complete(const char *line_so_far, const char *text, int state);

/* While on, typing during a backend call cancels it (search as you type). */
void tui_set_cancel_on_input(struct tui *t, bool on);
/* The status bar: the backend on the left, `info` (screen-specific) after it. */
void tui_draw_status(struct tui *t, WINDOW *w, int y, int cols, const char *info);

/* Delete with confirmation, shared by the list and detail screens. */
void tui_delete_employee(struct tui *t, const struct employee *emp);

#endif
