/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ':' command line: commands with arguments, and every action by its
 * name (":add", ":reload", ":help"), so the command line can do whatever a
 * key can. Tab completes command names and arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "tui.h"

struct command {
	const char *name;
	const char *args;
	const char *help;
	void (*run)(struct tui *t, const char *arg);
};

static void cmd_quit(struct tui *t, const char *arg) { (void)arg; tui_quit(t); }
static void cmd_search(struct tui *t, const char *arg) { list_screen_search(t, arg); }
static void cmd_clear(struct tui *t, const char *arg) { (void)arg; list_screen_search(t, NULL); }

static void cmd_sort(struct tui *t, const char *arg)
{
	char col[32] = "", dir[32] = "";
	if (sscanf(arg, "%31s %31s", col, dir) < 1) {
		tui_message(t, MSG_ERROR, "usage: sort name|title|location [asc|desc]");
		return;
	}
	enum sort_key k;
	if (strcmp(col, "name") == 0)
		k = SORT_FULLNAME;
	else if (strcmp(col, "title") == 0)
		k = SORT_JOB_TITLE;
	else if (!sort_key_parse(col, &k)) {
		tui_message(t, MSG_ERROR, "sort: unknown column '%s'; use name, title or location", col);
		return;
	}
	int desc = 0;
	if (*dir && strcmp(dir, "desc") != 0 && strcmp(dir, "asc") != 0) {
		tui_message(t, MSG_ERROR, "sort: '%s' is not asc or desc", dir);
		return;
	}
	desc = strcmp(dir, "desc") == 0;
	list_screen_sort(t, k, desc);
}

static const struct command commands[] = {
	{"quit", "", "leave empdir-tui", cmd_quit},
	{"q", "", "leave empdir-tui", cmd_quit},
	{"search", "TEXT", "show employees whose name, title, location or badges contain TEXT", cmd_search},
	{"clear", "", "clear the search", cmd_clear},
	{"sort", "name|title|location [asc|desc]", "sort the list", cmd_sort},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

void commands_run(struct tui *t, const char *line)
{
	while (*line == ' ')
		line++;
	size_t n = strcspn(line, " ");
	char name[64];
	snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), line);
	const char *arg = line + n;
	while (*arg == ' ')
		arg++;
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0) {
			commands[i].run(t, arg);
			return;
		}
	enum action a = action_by_name(name);
	if (a != ACT_NONE) {
		tui_action(t, a);
		return;
	}
	tui_message(t, MSG_ERROR, "unknown command '%s'; Tab lists the commands, ? shows the keys", name);
}

/* readline's generator protocol: state 0 starts, return malloc'd matches
 * until NULL. */
char *commands_complete(const char *before, const char *text, int state)
{
	static size_t i;
	static int phase;
	if (state == 0) {
		i = 0;
		phase = 0;
	}
	size_t len = strlen(text);
	while (*before == ' ')
		before++;
	if (strncmp(before, "sort ", 5) == 0) {
		static const char *const words[] = {"name", "title", "location", "asc", "desc"};
		while (i < 5)
			if (strncmp(words[i], text, len) == 0)
				return xstrdup(words[i++]);
			else
				i++;
		return NULL;
	}
	if (*before)
		return NULL; /* free text (search) has nothing to complete */
	if (phase == 0) {
		while (i < N_COMMANDS) {
			const char *c = commands[i++].name;
			if (strncmp(c, text, len) == 0 && strlen(c) > 1)
				return xstrdup(c);
		}
		phase = 1;
		i = 1;
	}
	while (i < ACT_COUNT) {
		const struct action_def *d = action_def((enum action)i++);
		if (d && strncmp(d->name, text, len) == 0 && strcmp(d->name, "quit") != 0 &&
		    strcmp(d->name, "command") != 0)
			return xstrdup(d->name);
	}
	return NULL;
}
