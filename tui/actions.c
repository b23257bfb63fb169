/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "actions.h"

#include <string.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

#define ACTION_DEF(id_, name_, scope_, flags_, label_, help_, ...) \
	{id_, name_, scope_, flags_, label_, help_, {__VA_ARGS__}},
static const struct action_def table[] = {ACTIONS(ACTION_DEF)};
#undef ACTION_DEF

#define N_ACTIONS (sizeof table / sizeof table[0])

const struct action_def *action_def(enum action a)
{
	for (size_t i = 0; i < N_ACTIONS; i++)
		if (table[i].id == a)
			return &table[i];
	return NULL;
}

enum action action_for_key(unsigned scope, int key)
{
	/* The screen's own bindings win over global ones (Esc, Enter, q). */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < N_ACTIONS; i++) {
			unsigned s = table[i].scope;
			if (pass == 0 ? !(s & scope) || s == SCOPE_GLOBAL : !(s & SCOPE_GLOBAL))
				continue;
			for (const int *k = table[i].keys; *k; k++)
				if (*k == key)
					return table[i].id;
		}
	return ACT_NONE;
}

enum action action_by_name(const char *name)
{
	for (size_t i = 0; i < N_ACTIONS; i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].id;
	return ACT_NONE;
}

static const struct {
	unsigned scope;
	const char *title;
} scopes[] = {
	{SCOPE_GLOBAL, "Everywhere"},
	{SCOPE_LIST, "Employee list"},
	{SCOPE_DETAIL, "Employee details"},
	{SCOPE_FORM, "Add/edit form"},
	{SCOPE_CONFLICT, "Conflict (someone else changed the record)"},
	{SCOPE_SYNC, "Sync (offline edits of a pulled snapshot)"},
	{SCOPE_ALARMS, "Alarms"},
	{SCOPE_COST, "Cost"},
	{SCOPE_HELP, "Help"},
};

const char *action_scope_title(unsigned scope)
{
	for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
		if (scopes[i].scope == scope)
			return scopes[i].title;
	return "";
}

/* mdoc-safe text: backslashes doubled, a leading dot or quote protected. */
static void roff_escaped(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else
			fputc(*s, out);
	}
}

/* "PgDn  ^F  Space" -> "PgDn , ^F , Space" for .It Sy */
static void keys_label(FILE *out, const char *label)
{
	struct {
		char s[64];
	} part;
	const char *p = label;
	bool first = true;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = 0;
		while (p[n] && !(p[n] == ' ' && p[n + 1] == ' '))
			n++;
		if (!n)
			break;
		snprintf(part.s, sizeof part.s, "%.*s", (int)n, p);
		fputs(first ? "" : " , ", out);
		/* characters mdoc would treat as delimiters or macros go quoted */
		fprintf(out, "\\&");
		roff_escaped(out, part.s);
		first = false;
		p += n;
	}
}

void actions_write_man(FILE *out)
{
	for (size_t g = 0; g < sizeof scopes / sizeof scopes[0]; g++) {
		if (scopes[g].scope == SCOPE_HELP)
			continue;
		fprintf(out, ".Ss %s\n.Bl -tag -width Ds\n", scopes[g].title);
		for (size_t i = 0; i < N_ACTIONS; i++) {
			if (!(table[i].scope & scopes[g].scope))
				continue;
			fputs(".It Sy ", out);
			keys_label(out, table[i].keys_label);
			fputc('\n', out);
			roff_escaped(out, table[i].help);
			fputs("\n(action\n.Ic ", out);
			roff_escaped(out, table[i].name);
			fputs(" ) .\n", out);
			if (table[i].flags & ACT_WRITES)
				fputs("Refused on a read-only connection.\n", out);
		}
		fputs(".El\n", out);
	}
}
