/* SPDX-License-Identifier: GPL-3.0-or-later */
/* actions: the one table of everything a user can do.
 *
 * The key map, the help screen, the key hints and the man page's key list
 * are all generated from ACTIONS below, so they cannot drift apart. Each
 * action says where it applies (its scope) and whether it writes; writes
 * are greyed out and refused on a read-only connection (the backend refuses
 * them too). The table is static; nothing here allocates. */
#ifndef EMPDIR_ACTIONS_H
#define EMPDIR_ACTIONS_H

#include <stdbool.h>
#include <stdio.h>

enum action_scope {
	SCOPE_GLOBAL = 1u << 0,
	SCOPE_LIST = 1u << 1,
	SCOPE_DETAIL = 1u << 2,
	SCOPE_FORM = 1u << 3,
	SCOPE_HELP = 1u << 4,
	SCOPE_CONFLICT = 1u << 5,
	SCOPE_SYNC = 1u << 6,
	SCOPE_ALARMS = 1u << 7,
	SCOPE_COST = 1u << 8,
};

#define ACT_WRITES 1u

/* X(id, name, scope, flags, key label, help, keys...) ; key codes are
 * ncurses codes or characters, ending with 0. */
#define ACTIONS(X)                                                                                \
	X(ACT_HELP, "help", SCOPE_GLOBAL, 0, "?  F1", "show this help", '?', KEY_F(1), 0)           \
	X(ACT_QUIT, "quit", SCOPE_GLOBAL, 0, "q", "close this screen; quit from the list", 'q', 0)  \
	X(ACT_COMMAND, "command", SCOPE_GLOBAL, 0, ":", "open the command line (Tab completes)", ':', 0) \
	X(ACT_REDRAW, "redraw", SCOPE_GLOBAL, 0, "^L", "redraw the screen", 12, 0)                  \
	X(ACT_ALARMS, "alarms", SCOPE_GLOBAL, 0, "A", "CloudWatch alarms, Lambda metrics and charges", 'A', 0) \
	X(ACT_COST, "cost", SCOPE_GLOBAL, 0, "$", "the month's cost by service (Cost Explorer)", '$', 0) \
	X(ACT_UP, "up", SCOPE_LIST | SCOPE_FORM | SCOPE_HELP | SCOPE_DETAIL | SCOPE_SYNC | SCOPE_ALARMS | SCOPE_COST, 0, "Up  k", "move up", KEY_UP, 'k', 0) \
	X(ACT_DOWN, "down", SCOPE_LIST | SCOPE_FORM | SCOPE_HELP | SCOPE_DETAIL | SCOPE_SYNC | SCOPE_ALARMS | SCOPE_COST, 0, "Down  j", "move down", KEY_DOWN, 'j', 0) \
	X(ACT_PAGE_UP, "page-up", SCOPE_LIST | SCOPE_HELP | SCOPE_SYNC, 0, "PgUp  ^B", "one screen up", KEY_PPAGE, 2, 0) \
	X(ACT_PAGE_DOWN, "page-down", SCOPE_LIST | SCOPE_HELP | SCOPE_SYNC, 0, "PgDn  ^F  Space", "one screen down", KEY_NPAGE, 6, ' ', 0) \
	X(ACT_HOME, "first", SCOPE_LIST | SCOPE_HELP, 0, "Home  g", "go to the first row", KEY_HOME, 'g', 0) \
	X(ACT_END, "last", SCOPE_LIST | SCOPE_HELP, 0, "End  G", "go to the last row", KEY_END, 'G', 0) \
	X(ACT_SEARCH, "search", SCOPE_LIST, 0, "/", "search name, title, location and badges as you type", '/', 0) \
	X(ACT_CLEAR_SEARCH, "clear-search", SCOPE_LIST, 0, "Esc", "clear the search", 27, 0)        \
	X(ACT_SORT_NAME, "sort-name", SCOPE_LIST, 0, "1", "sort by name (again: reverse)", '1', 0)   \
	X(ACT_SORT_TITLE, "sort-title", SCOPE_LIST, 0, "2", "sort by job title (again: reverse)", '2', 0) \
	X(ACT_SORT_LOCATION, "sort-location", SCOPE_LIST, 0, "3", "sort by location (again: reverse)", '3', 0) \
	X(ACT_REVERSE, "reverse", SCOPE_LIST, 0, "r", "reverse the sort order", 'r', 0)            \
	X(ACT_OPEN, "open", SCOPE_LIST, 0, "Enter", "show the selected employee", '\r', '\n', KEY_ENTER, 0) \
	X(ACT_ADD, "add", SCOPE_LIST, ACT_WRITES, "a", "add an employee", 'a', 0)                  \
	X(ACT_EDIT, "edit", SCOPE_LIST | SCOPE_DETAIL, ACT_WRITES, "e", "edit the selected employee", 'e', 0) \
	X(ACT_DELETE, "delete", SCOPE_LIST | SCOPE_DETAIL, ACT_WRITES, "d  Del", "delete the selected employee (asks first)", 'd', KEY_DC, 0) \
	X(ACT_RELOAD, "reload", SCOPE_LIST | SCOPE_DETAIL | SCOPE_SYNC | SCOPE_ALARMS, 0, "R  F5", "read the data again", 'R', KEY_F(5), 0) \
	X(ACT_SYNC, "sync", SCOPE_LIST, ACT_WRITES, "S", "offline edits: push them, resolve conflicts (pulled snapshots)", 'S', 0) \
	X(ACT_FIELD_EDIT, "edit-field", SCOPE_FORM, 0, "Enter", "edit the selected field", '\r', '\n', KEY_ENTER, 0) \
	X(ACT_SAVE, "save", SCOPE_FORM, ACT_WRITES, "^S  F2", "save the form", 19, KEY_F(2), 0)    \
	X(ACT_CANCEL, "cancel", SCOPE_FORM | SCOPE_DETAIL | SCOPE_HELP | SCOPE_CONFLICT | SCOPE_SYNC | SCOPE_ALARMS | SCOPE_COST, 0, "Esc", "go back (a changed form asks first)", 27, 0) \
	X(ACT_KEEP_MINE, "keep-mine", SCOPE_CONFLICT | SCOPE_SYNC, ACT_WRITES, "m", "conflict: save my version on top of theirs", 'm', 0) \
	X(ACT_TAKE_THEIRS, "take-theirs", SCOPE_CONFLICT | SCOPE_SYNC, 0, "t", "conflict: discard my changes, keep theirs", 't', 0) \
	X(ACT_EDIT_AGAIN, "edit-again", SCOPE_CONFLICT, 0, "e", "conflict: edit my version again on top of theirs", 'e', 0) \
	X(ACT_PICK_MINE, "pick-mine", SCOPE_SYNC, 0, "Left  <", "merge: this field from my version", KEY_LEFT, '<', 0) \
	X(ACT_PICK_THEIRS, "pick-theirs", SCOPE_SYNC, 0, "Right  >", "merge: this field from theirs", KEY_RIGHT, '>', 0) \
	X(ACT_MERGE, "merge", SCOPE_SYNC, ACT_WRITES, "M", "save the field-by-field merge", 'M', 0) \
	X(ACT_PUSH, "push", SCOPE_SYNC, ACT_WRITES, "p", "push the waiting edits to the source now", 'p', 0) \
	X(ACT_FETCH_COST, "fetch-cost", SCOPE_COST, 0, "f", "ask Cost Explorer now (0.01 USD per request; asks first)", 'f', 0)

#define ACTION_ENUM(id, ...) id,
enum action { ACT_NONE = 0, ACTIONS(ACTION_ENUM) ACT_COUNT };
#undef ACTION_ENUM

struct action_def {
	enum action id;
	const char *name;
	unsigned scope;
	unsigned flags;
	const char *keys_label;
	const char *help;
	int keys[5];
};

const struct action_def *action_def(enum action a);
/* The action a key means in the given scope (screen scope or global). */
enum action action_for_key(unsigned scope, int key);
enum action action_by_name(const char *name);
/* Each scope's title for help and the man page. */
const char *action_scope_title(unsigned scope);
/* The man page's key list (roff), for `empdir-tui --man-keys`. */
void actions_write_man(FILE *out);

#endif
