/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "prompt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wchar.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "../core/buf.h"
#include "../core/text.h"

/* Keys waiting for readline's getc. */
static unsigned char queue[64];
static size_t q_head, q_len;

static struct prompt_spec cur;
static char *cur_label, *cur_initial;
static bool open_now, finished;
static char *finished_line;
static struct buf last_line = BUF_INIT;
static struct buf matches = BUF_INIT;
static FILE *devnull;

struct hist {
	const char *name;
	bool persist;
	HISTORY_STATE *state;
	char path[1024];
};
static struct hist hists[] = {{"search", true, NULL, ""}, {"command", true, NULL, ""}, {"field", false, NULL, ""}};
static struct hist *active;
static int hist_size;

static void push_bytes(const char *s, size_t n)
{
	for (size_t i = 0; i < n && q_len < sizeof queue; i++)
		queue[(q_head + q_len++) % sizeof queue] = (unsigned char)s[i];
}

static int rl_getc_from_queue(FILE *f)
{
	(void)f;
	if (!q_len)
		return EOF;
	int c = queue[q_head];
	q_head = (q_head + 1) % sizeof queue;
	q_len--;
	return c;
}

static int rl_input_avail(void) { return q_len > 0; }
static void rl_redisplay_noop(void) {}

static void line_handler(char *line)
{
	finished = true;
	finished_line = line; /* NULL on EOF (Ctrl-D on an empty line) */
	rl_callback_handler_remove();
}

static char *command_generator(const char *text, int state)
{
	char *before = xstrndup(rl_line_buffer, (size_t)(rl_point - (int)strlen(text) < 0 ? 0 : rl_point - (int)strlen(text)));
	char *m = commands_complete(before, text, state);
	free(before);
	return m;
}

static char **attempt_completion(const char *text, int start, int end)
{
	(void)start;
	(void)end;
	rl_attempted_completion_over = 1; /* never list the file system */
	if (!cur.complete_commands)
		return NULL;
	return rl_completion_matches(text, command_generator);
}

static void show_matches(char **m, int n, int maxlen)
{
	(void)maxlen;
	buf_reset(&matches);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			buf_puts(&matches, "  ");
		buf_puts(&matches, m[i]);
	}
}

static void hist_switch(struct hist *h)
{
	if (active == h)
		return;
	if (active) {
		free(active->state);
		active->state = history_get_history_state();
	}
	if (h->state) {
		history_set_history_state(h->state);
	} else {
		HISTORY_STATE empty;
		memset(&empty, 0, sizeof empty);
		history_set_history_state(&empty);
	}
	stifle_history(hist_size > 0 ? hist_size : 100);
	active = h;
}

static struct hist *hist_find(const char *name)
{
	for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++)
		if (name && strcmp(hists[i].name, name) == 0)
			return &hists[i];
	return &hists[2];
}

static bool make_dirs(const char *dir)
{
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0700);
			*p = '/';
		}
	return mkdir(tmp, 0700) == 0 || errno == EEXIST;
}

void prompt_setup(int history_size, const char *state_dir)
{
	rl_readline_name = "empdir-tui";
	rl_change_environment = 0;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	rl_getc_function = rl_getc_from_queue;
	rl_input_available_hook = rl_input_avail;
	rl_redisplay_function = rl_redisplay_noop;
	rl_attempted_completion_function = attempt_completion;
	rl_completion_display_matches_hook = show_matches;
	devnull = fopen("/dev/null", "w");
	rl_outstream = devnull;
	rl_instream = NULL;
	rl_variable_bind("show-all-if-ambiguous", "on");
	rl_variable_bind("bell-style", "none");
	rl_initialize();
	rl_bind_keyseq("\\e[3~", rl_delete);
	hist_size = history_size;
	using_history();
	for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++) {
		struct hist *h = &hists[i];
		hist_switch(h);
		if (!h->persist || history_size <= 0 || !state_dir)
			continue;
		if (!make_dirs(state_dir))
			continue;
		snprintf(h->path, sizeof h->path, "%s/%s.history", state_dir, h->name);
		read_history(h->path); /* ENOENT on the first run is fine */
	}
}

void prompt_shutdown(void)
{
	for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++) {
		struct hist *h = &hists[i];
		hist_switch(h);
		if (h->path[0] && history_length > 0) {
			write_history(h->path); /* a fresh file is created 0600 */
			history_truncate_file(h->path, hist_size);
		}
	}
	if (active) {
		free(active->state);
		active->state = history_get_history_state();
	}
	for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++) {
		if (!hists[i].state)
			continue;
		history_set_history_state(hists[i].state);
		clear_history();
		free(hists[i].state);
		hists[i].state = NULL;
	}
	HISTORY_STATE empty;
	memset(&empty, 0, sizeof empty);
	history_set_history_state(&empty);
	active = NULL;
	free(cur_label);
	free(cur_initial);
	cur_label = cur_initial = NULL;
	buf_free(&last_line);
	buf_free(&matches);
	if (devnull)
		fclose(devnull);
	devnull = NULL;
	rl_outstream = NULL;
}

void prompt_open(struct tui *t, const struct prompt_spec *spec)
{
	(void)t;
	if (open_now)
		prompt_cancel(t);
	free(cur_label);
	free(cur_initial);
	cur = *spec;
	cur_label = xstrdup(spec->label ? spec->label : "");
	cur_initial = xstrdup(spec->initial ? spec->initial : "");
	cur.label = cur_label;
	cur.initial = cur_initial;
	hist_switch(hist_find(spec->history));
	q_head = q_len = 0;
	finished = false;
	finished_line = NULL;
	buf_reset(&matches);
	rl_callback_handler_install(cur_label, line_handler);
	if (*cur_initial) {
		rl_insert_text(cur_initial);
		rl_point = rl_end;
	}
	buf_reset(&last_line);
	buf_puts(&last_line, rl_line_buffer);
	open_now = true;
}

bool prompt_is_open(void) { return open_now; }

const char *prompt_matches(void) { return matches.len ? matches.data : NULL; }

static void finish(struct tui *t)
{
	open_now = false;
	char *line = finished_line;
	finished_line = NULL;
	if (line && *line && cur.history && hist_find(cur.history)->persist &&
	    !strchr(line, '\n') && line[0] != ' ') {
		HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
		if (!last || strcmp(last->line, line) != 0)
			add_history(line);
	}
	if (cur.on_done)
		cur.on_done(t, cur.ctx, line);
	free(line);
}

void prompt_cancel(struct tui *t)
{
	if (!open_now)
		return;
	rl_callback_sigcleanup();
	rl_replace_line("", 1);
	rl_callback_handler_remove();
	open_now = false;
	buf_reset(&matches);
	if (cur.on_done)
		cur.on_done(t, cur.ctx, NULL);
}

void prompt_key(struct tui *t, int key, bool is_code, bool alt)
{
	if (!open_now)
		return;
	const char *seq = NULL;
	if (is_code) {
		switch (key) {
		case KEY_LEFT: seq = "\033[D"; break;
		case KEY_RIGHT: seq = "\033[C"; break;
		case KEY_UP: seq = "\033[A"; break;
		case KEY_DOWN: seq = "\033[B"; break;
		case KEY_HOME: seq = "\001"; break;
		case KEY_END: seq = "\005"; break;
		case KEY_BACKSPACE: seq = "\177"; break;
		case KEY_DC: seq = "\033[3~"; break;
		case KEY_ENTER: seq = "\r"; break;
		default: return;
		}
		push_bytes(seq, strlen(seq));
	} else {
		if (alt)
			push_bytes("\033", 1);
		char mb[MB_LEN_MAX];
		mbstate_t ps;
		memset(&ps, 0, sizeof ps);
		size_t n = wcrtomb(mb, (wchar_t)key, &ps);
		if (n == (size_t)-1)
			return;
		push_bytes(mb, n);
	}
	if (key != '\t')
		buf_reset(&matches);
	while (q_len && open_now && !finished)
		rl_callback_read_char();
	if (finished) {
		finish(t);
		return;
	}
	if (strcmp(buf_str(&last_line), rl_line_buffer) != 0) {
		buf_reset(&last_line);
		buf_puts(&last_line, rl_line_buffer);
		if (cur.on_change)
			cur.on_change(t, cur.ctx, rl_line_buffer);
	}
}

/* Skip whole characters of safe text until `cols` columns are skipped. */
static const char *skip_cols(const char *s, int cols)
{
	while (*s && cols > 0) {
		uint32_t cp;
		size_t k = utf8_decode(s, strlen(s), &cp);
		if (!k)
			k = 1;
		cols -= text_width_n(s, k);
		s += k;
	}
	return s;
}

int prompt_draw(WINDOW *w, int y, int cols)
{
	struct buf shown = BUF_INIT, before = BUF_INIT;
	const char *label = rl_display_prompt ? rl_display_prompt : cur_label;
	text_sanitize(&shown, label, strlen(label), 0);
	size_t label_len = shown.len;
	text_sanitize(&shown, rl_line_buffer, strlen(rl_line_buffer), 0);
	text_sanitize(&before, label, strlen(label), 0);
	text_sanitize(&before, rl_line_buffer, (size_t)rl_point, 0);
	(void)label_len;
	int cursor = text_width(buf_str(&before));
	int offset = cursor > cols - 2 ? cursor - (cols - 2) : 0;
	const char *from = skip_cols(buf_str(&shown), offset);
	int skipped = text_width_n(buf_str(&shown), (size_t)(from - buf_str(&shown)));
	struct buf fitted = BUF_INIT;
	text_fit(&fitted, from, cols, 1);
	wmove(w, y, 0);
	waddnstr(w, buf_str(&fitted), (int)fitted.len);
	buf_free(&shown);
	buf_free(&before);
	buf_free(&fitted);
	return cursor - skipped;
}

void prompt_resize(int rows, int cols)
{
	rl_set_screen_size(rows, cols);
}
