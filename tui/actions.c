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
	{SCOPE_HELP, "Help"},
};

const char *action_scope_title(unsigned scope)
{
	for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
		if (scopes[i].scope == scope)
			return scopes[i].title;
	return "";
}

static void roff_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

void actions_write_man(FILE *out)
{
	for (size_t g = 0; g < sizeof scopes / sizeof scopes[0]; g++) {
		if (scopes[g].scope == SCOPE_HELP)
			continue;
		fprintf(out, ".SS %s\n", scopes[g].title);
		for (size_t i = 0; i < N_ACTIONS; i++) {
			if (!(table[i].scope & scopes[g].scope))
				continue;
			fputs(".TP\n.B ", out);
			roff_escaped(out, table[i].keys_label);
			fputc('\n', out);
			roff_escaped(out, table[i].help);
			fprintf(out, " (\\fB%s\\fP)%s\n", table[i].name,
				table[i].flags & ACT_WRITES ? "; refused on a read-only connection" : "");
		}
	}
}
