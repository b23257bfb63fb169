/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The engine: terminal set-up and tear-down, the input loop, the screen
 * stack, the status bar and the bottom line (messages, questions, prompt).
 *
 * Terminal rules for SSH users (../shared/notes/terminal.md): newterm so an
 * unusable TERM is a message, raw mode so Ctrl-C is a key and Ctrl-Z is
 * handled by raising SIGTSTP, SIGTERM/SIGHUP/SIGINT/SIGQUIT only set a flag
 * (self-pipe) and the loop restores the terminal, a hang-up without a signal
 * ends the loop instead of spinning, NO_COLOR keeps only reverse/bold. */
#include "tui.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <term.h>

#include "../core/buf.h"
#include "../core/text.h"
#include "../api_client/aws_settings.h"
#include "prompt.h"

#define MIN_COLS 40
#define MIN_ROWS 10

struct tui {
	struct backend *backend;
	SCREEN *term;
	struct screen *top;
	bool quit;
	bool color;
	bool ascii;
	struct buf msg;
	enum msg_level msg_level;
	char confirm_q[256];
	void (*confirm_cb)(struct tui *, void *, bool);
	void *confirm_ctx;
	const char *busy;          /* what a backend waits for, shown in the status */
	struct timespec busy_since;
	unsigned spinner;
	FILE *idle_log;            /* EMPDIR_TUI_TEST_IDLE: test synchronisation */
	unsigned long idle_n;
	bool cancel_on_input;      /* typing supersedes the running query */
	struct { int r; wint_t wc; } pending[256]; /* keys typed while a backend waited */
	int npending;
	struct timespec last_spin;
	const struct tui_options *opt;
	struct cw_summary alarms;  /* for the status-bar badge */
	bool have_alarms;
	time_t next_alarm_poll;    /* background refresh of the badge; 0: none */
	time_t last_timer;         /* timers run at most once a second */
};

static volatile sig_atomic_t got_signal;
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	got_signal = sig;
	if (sig_pipe[1] >= 0) {
		int saved = errno;
		ssize_t r = write(sig_pipe[1], "s", 1);
		(void)r;
		errno = saved;
	}
}

static void install_signals(void)
{
	if (pipe(sig_pipe) == 0) {
		fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
		fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
		fcntl(sig_pipe[0], F_SETFD, FD_CLOEXEC);
		fcntl(sig_pipe[1], F_SETFD, FD_CLOEXEC);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll() must wake */
	int sigs[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- small API for screens ---- */

struct backend *tui_backend(struct tui *t) { return t->backend; }
struct aws_http *tui_aws(struct tui *t) { return t->opt->aws; }
const struct aws_settings *tui_aws_settings(struct tui *t) { return t->opt->aws_settings; }

void tui_set_alarm_summary(struct tui *t, struct cw_summary s)
{
	t->alarms = s;
	t->have_alarms = true;
}
const struct tui_options *tui_options_of(struct tui *t) { return t->opt; }

struct screen *tui_root(struct tui *t)
{
	struct screen *s = t->top;
	while (s && s->below)
		s = s->below;
	return s;
}
bool tui_read_only(struct tui *t) { return !t->backend || !(backend_caps(t->backend) & CAP_WRITE); }
bool tui_ascii(struct tui *t) { return t->ascii; }

void tui_message(struct tui *t, enum msg_level lv, const char *fmt, ...)
{
	char raw[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	buf_reset(&t->msg);
	text_sanitize(&t->msg, raw, strlen(raw), 0);
	t->msg_level = lv;
}

void tui_error(struct tui *t, enum status st, const struct err *e)
{
	enum msg_level lv = st == ST_CANCELLED || st == ST_READ_ONLY ? MSG_WARN : MSG_ERROR;
	tui_message(t, lv, "%s", e->msg[0] ? e->msg : status_name(st));
}

void tui_confirm(struct tui *t, const char *question, void (*cb)(struct tui *, void *, bool), void *ctx)
{
	struct buf b = BUF_INIT;
	text_sanitize(&b, question, strlen(question), 200);
	snprintf(t->confirm_q, sizeof t->confirm_q, "%s", buf_str(&b));
	buf_free(&b);
	t->confirm_cb = cb;
	t->confirm_ctx = ctx;
}

void tui_prompt(struct tui *t, const struct prompt_spec *spec)
{
	prompt_open(t, spec);
	curs_set(1);
}

void tui_push(struct tui *t, struct screen *s)
{
	s->below = t->top;
	t->top = s;
}

void tui_pop(struct tui *t)
{
	struct screen *s = t->top;
	if (!s)
		return;
	t->top = s->below;
	s->ops->destroy(s);
	if (!t->top)
		t->quit = true;
	else if (t->top->ops->relayout)
		t->top->ops->relayout(t->top, t);
}

static const short role_colors[][2] = {
	[ROLE_NORMAL] = {-1, -1},
	[ROLE_HEADER] = {COLOR_BLACK, COLOR_CYAN},
	[ROLE_SELECTED] = {COLOR_BLACK, COLOR_YELLOW},
	[ROLE_STATUS] = {COLOR_WHITE, COLOR_BLUE},
	[ROLE_ERROR] = {COLOR_RED, -1},
	[ROLE_OK] = {COLOR_GREEN, -1},
	[ROLE_DIM] = {-1, -1},
	[ROLE_LABEL] = {COLOR_CYAN, -1},
};

attr_t tui_attr(struct tui *t, int role)
{
	static const attr_t mono[] = {
		[ROLE_NORMAL] = A_NORMAL, [ROLE_HEADER] = A_BOLD | A_UNDERLINE,
		[ROLE_SELECTED] = A_REVERSE, [ROLE_STATUS] = A_REVERSE,
		[ROLE_ERROR] = A_BOLD, [ROLE_OK] = A_NORMAL, [ROLE_DIM] = A_DIM,
		[ROLE_LABEL] = A_BOLD,
	};
	if (!t->color || role == ROLE_NORMAL || role == ROLE_DIM)
		return mono[role];
	attr_t extra = role == ROLE_HEADER || role == ROLE_LABEL || role == ROLE_ERROR ? A_BOLD : 0;
	return (attr_t)COLOR_PAIR(role) | extra;
}

static void setup_colors(struct tui *t, bool no_color)
{
	const char *nc = getenv("NO_COLOR");
	t->color = !no_color && !(nc && *nc) && has_colors();
	if (!t->color)
		return;
	start_color();
	use_default_colors();
	for (int r = 1; r < (int)(sizeof role_colors / sizeof role_colors[0]); r++)
		init_pair((short)r, role_colors[r][0], role_colors[r][1]);
}

void tui_draw_text(WINDOW *w, int y, int x, const char *untrusted, int cols, attr_t attr, bool pad)
{
	if (cols <= 0)
		return;
	struct buf safe = BUF_INIT, fitted = BUF_INIT;
	text_sanitize(&safe, untrusted ? untrusted : "", untrusted ? strlen(untrusted) : 0, 0);
	text_fit(&fitted, buf_str(&safe), cols, pad);
	wattrset(w, attr);
	mvwaddnstr(w, y, x, buf_str(&fitted), (int)fitted.len);
	wattrset(w, A_NORMAL);
	buf_free(&safe);
	buf_free(&fitted);
}

/* ---- drawing ---- */

void tui_draw_status(struct tui *t, WINDOW *w, int y, int cols, const char *info)
{
	char desc[256] = "no data source";
	if (t->backend)
		backend_describe(t->backend, desc, sizeof desc);
	struct buf line = BUF_INIT;
	buf_printf(&line, " %s%s%s", desc, info && *info ? " | " : "", info ? info : "");
	if (t->busy)
		buf_printf(&line, " | %s...", t->busy);
	/* The alarm badge sits at the right end, on every screen. */
	char badge[64] = "";
	if (t->have_alarms && t->alarms.alarm)
		snprintf(badge, sizeof badge, " %zu ALARM%s (A) ", t->alarms.alarm, t->alarms.alarm == 1 ? "" : "S");
	int bw = (int)strlen(badge);
	if (bw && cols > bw + 20) {
		tui_draw_text(w, y, 0, buf_str(&line), cols - bw, tui_attr(t, ROLE_STATUS), true);
		tui_draw_text(w, y, cols - bw, badge, bw, tui_attr(t, ROLE_ERROR) | A_REVERSE, true);
	} else {
		tui_draw_text(w, y, 0, buf_str(&line), cols, tui_attr(t, ROLE_STATUS), true);
	}
	buf_free(&line);
}

static void key_hints(struct tui *t, struct buf *out)
{
	static const enum action shown[] = {ACT_HELP, ACT_SEARCH, ACT_OPEN, ACT_ADD, ACT_EDIT,
					    ACT_DELETE, ACT_SAVE, ACT_FIELD_EDIT, ACT_KEEP_MINE,
					    ACT_TAKE_THEIRS, ACT_EDIT_AGAIN, ACT_CANCEL, ACT_COMMAND, ACT_QUIT};
	unsigned scope = t->top ? t->top->ops->scope : SCOPE_LIST;
	for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
		const struct action_def *d = action_def(shown[i]);
		if (!(d->scope & scope) && d->scope != SCOPE_GLOBAL)
			continue;
		if ((d->flags & ACT_WRITES) && tui_read_only(t))
			continue;
		char first[16];
		snprintf(first, sizeof first, "%s", d->keys_label);
		char *sp = strstr(first, "  ");
		if (sp)
			*sp = '\0';
		buf_printf(out, "%s%s %s", out->len ? "  " : "", first, d->name);
	}
}

static void draw_bottom(struct tui *t, int rows, int cols)
{
	int y = rows - 1;
	wmove(stdscr, y, 0);
	wclrtoeol(stdscr);
	if (prompt_is_open()) {
		int cx = prompt_draw(stdscr, y, cols);
		const char *m = prompt_matches();
		if (m)
			tui_draw_text(stdscr, y - 1, 0, m, cols, tui_attr(t, ROLE_STATUS), true);
		wmove(stdscr, y, cx < cols ? cx : cols - 1);
		return;
	}
	if (t->confirm_cb) {
		tui_draw_text(stdscr, y, 0, t->confirm_q, cols, tui_attr(t, ROLE_ERROR), true);
		return;
	}
	if (t->msg.len) {
		int role = t->msg_level == MSG_ERROR ? ROLE_ERROR : t->msg_level == MSG_OK ? ROLE_OK
			 : t->msg_level == MSG_WARN ? ROLE_ERROR : ROLE_NORMAL;
		tui_draw_text(stdscr, y, 0, t->msg.data, cols, tui_attr(t, role), true);
		return;
	}
	struct buf hints = BUF_INIT;
	key_hints(t, &hints);
	tui_draw_text(stdscr, y, 0, buf_str(&hints), cols, tui_attr(t, ROLE_DIM), true);
	buf_free(&hints);
}

static void draw_too_small(int rows, int cols)
{
	erase();
	char m[128];
	snprintf(m, sizeof m, "terminal too small (%dx%d); need at least %dx%d; q quits", cols, rows,
		 MIN_COLS, MIN_ROWS);
	mvaddnstr(rows / 2 < 0 ? 0 : rows / 2, 0, m, cols);
}

static void draw_all(struct tui *t)
{
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	curs_set(0);
	if (cols < MIN_COLS || rows < MIN_ROWS) {
		draw_too_small(rows, cols);
	} else {
		if (t->top)
			t->top->ops->draw(t->top, t, stdscr, rows - 1, cols);
		draw_bottom(t, rows, cols);
		if (prompt_is_open())
			curs_set(1);
	}
	wnoutrefresh(stdscr);
	doupdate();
}

static void idle_mark(struct tui *t)
{
	if (!t->idle_log)
		return;
	fprintf(t->idle_log, "idle %lu\n", ++t->idle_n);
	fflush(t->idle_log);
}

/* ---- the backend waiter: a spinner, Esc cancels, typing can supersede ---- */

static bool wait_tick(void *ctx, const char *what)
{
	struct tui *t = ctx;
	if (got_signal)
		return true;
	if (!t->busy) {
		t->busy = what;
		clock_gettime(CLOCK_MONOTONIC, &t->busy_since);
	}
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	if (poll(&pfd, 1, 0) > 0) {
		if (t->cancel_on_input)
			return true;
		nodelay(stdscr, TRUE);
		wint_t wc;
		int r;
		while ((r = wget_wch(stdscr, &wc)) != ERR) {
			if (r == OK && (wc == 27 || wc == 3)) /* Esc, Ctrl-C: cancel */
				return true;
			/* Anything else is kept for when the wait is over. */
			if (t->npending < (int)(sizeof t->pending / sizeof t->pending[0])) {
				t->pending[t->npending].r = r;
				t->pending[t->npending++].wc = wc;
			}
		}
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long since = (now.tv_sec - t->last_spin.tv_sec) * 1000 + (now.tv_nsec - t->last_spin.tv_nsec) / 1000000;
	if (since < 100)
		return false; /* the spinner turns ten times a second, no faster */
	t->last_spin = now;
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	if (rows >= MIN_ROWS && cols >= MIN_COLS) {
		static const char *const spin[] = {"|", "/", "-", "\\"};
		char m[200];
		snprintf(m, sizeof m, "%s %s... (Esc cancels)", spin[t->spinner++ % 4], what);
		tui_draw_text(stdscr, rows - 1, 0, m, cols, tui_attr(t, ROLE_DIM), true);
		wnoutrefresh(stdscr);
		doupdate();
	}
	return false;
}

static void wait_notify(void *ctx, const char *msg)
{
	tui_message(ctx, MSG_WARN, "%s", msg);
}

/* ---- input ---- */

static void run_global(struct tui *t, enum action a);

static void command_done(struct tui *t, void *ctx, const char *line)
{
	(void)ctx;
	if (line && *line)
		commands_run(t, line);
}

static void run_global(struct tui *t, enum action a)
{
	switch (a) {
	case ACT_QUIT:
		tui_pop(t);
		break;
	case ACT_HELP:
		if (t->top && strcmp(t->top->ops->name, "help") != 0)
			tui_push(t, help_screen_new());
		break;
	case ACT_COMMAND: {
		struct prompt_spec spec = {.label = ":", .history = "command", .on_done = command_done,
					   .complete_commands = true};
		tui_prompt(t, &spec);
		break;
	}
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		break;
	case ACT_ALARMS:
		if (t->top && strcmp(t->top->ops->name, "alarms") != 0)
			tui_push(t, alarms_screen_new(t));
		break;
	case ACT_COST:
		if (t->top && strcmp(t->top->ops->name, "cost") != 0)
			tui_push(t, cost_screen_new(t));
		break;
	default:
		break;
	}
}

static void dispatch(struct tui *t, int key, bool is_code)
{
	struct screen *s = t->top;
	if (!s)
		return;
	if (s->ops->text_input && s->ops->key && !is_code && key >= 0x20 && key != 0x7f &&
	    s->ops->key(s, t, key))
		return;
	enum action a = action_for_key(s->ops->scope, key);
	if (a == ACT_NONE && !is_code && key >= 0x80) {
		if (s->ops->key)
			s->ops->key(s, t, key);
		return;
	}
	if (a != ACT_NONE) {
		const struct action_def *d = action_def(a);
		if ((d->flags & ACT_WRITES) && tui_read_only(t)) {
			tui_message(t, MSG_WARN, "read-only connection: %s is not allowed", d->name);
			return;
		}
		if (s->ops->action(s, t, a))
			return;
		run_global(t, a);
		return;
	}
	if (s->ops->key)
		s->ops->key(s, t, key);
}

void tui_quit(struct tui *t) { t->quit = true; }

void tui_pop_screen_named(struct tui *t, const char *name)
{
	if (t->top && t->top->below && strcmp(t->top->ops->name, name) == 0)
		tui_pop(t);
}

void tui_action(struct tui *t, enum action a)
{
	const struct action_def *d = action_def(a);
	if (!d || !t->top)
		return;
	if ((d->flags & ACT_WRITES) && tui_read_only(t)) {
		tui_message(t, MSG_WARN, "read-only connection: %s is not allowed", d->name);
		return;
	}
	if ((d->scope & t->top->ops->scope) && t->top->ops->action(t->top, t, a))
		return;
	if (d->scope & SCOPE_GLOBAL)
		run_global(t, a);
	else
		tui_message(t, MSG_WARN, "%s does not apply here", d->name);
}

static void handle_resize(struct tui *t)
{
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	prompt_resize(rows, cols);
	for (struct screen *s = t->top; s; s = s->below)
		if (s->ops->relayout)
			s->ops->relayout(s, t);
}

/* One key from ncurses. Returns false when input is gone (hang-up). */
static void handle_key(struct tui *t, int r, wint_t wc)
{
	bool is_code = r == KEY_CODE_YES;
	int key = (int)wc;
	if (is_code && key == KEY_RESIZE) {
		handle_resize(t);
		return;
	}
	if (!is_code && key == 26) { /* Ctrl-Z: job control is ours in raw mode */
		if (prompt_is_open())
			prompt_cancel(t);
		raise(SIGTSTP);
		return;
	}
	bool alt = false;
	if (!is_code && key == 27) {
		/* A lone Esc, or Alt+key: look for a key right behind it. */
		wint_t next;
		int r2 = wget_wch(stdscr, &next);
		if (r2 != ERR) {
			if (prompt_is_open()) {
				prompt_key(t, (int)next, r2 == KEY_CODE_YES, true);
				return;
			}
			return; /* Alt+key means nothing outside the prompt */
		}
	}
	if (prompt_is_open()) {
		if (!is_code && (key == 27 || key == 3 || key == 7)) /* Esc, ^C, ^G cancel */
			prompt_cancel(t);
		else
			prompt_key(t, key, is_code, alt);
		if (!prompt_is_open())
			curs_set(0);
		return;
	}
	if (t->confirm_cb) {
		void (*cb)(struct tui *, void *, bool) = t->confirm_cb;
		t->confirm_cb = NULL;
		cb(t, t->confirm_ctx, !is_code && (key == 'y' || key == 'Y'));
		return;
	}
	buf_reset(&t->msg);
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	if (cols < MIN_COLS || rows < MIN_ROWS) {
		if (!is_code && (key == 'q' || key == 3))
			t->quit = true;
		return;
	}
	if (!is_code && key == 3) { /* Ctrl-C outside a prompt: like Esc */
		key = 27;
	}
	if (is_code && key == KEY_ENTER)
		key = '\r';
	dispatch(t, key, is_code);
}

static bool wants_timer(struct tui *t)
{
	if (t->next_alarm_poll)
		return true;
	for (struct screen *s = t->top; s; s = s->below)
		if (s->ops->timer)
			return true;
	return false;
}

/* Once a second at most: screens' timers and the badge's background poll. */
static void run_timers(struct tui *t)
{
	time_t now = time(NULL);
	if (now == t->last_timer)
		return;
	t->last_timer = now;
	if (t->top && t->top->ops->timer)
		t->top->ops->timer(t->top, t);
	if (t->next_alarm_poll && now >= t->next_alarm_poll && (!t->top || strcmp(t->top->ops->name, "alarms") != 0)) {
		const struct aws_settings *s = t->opt->aws_settings;
		struct cw_alarm_query q = {.names = (const char *const *)s->alarm_names.v,
					   .n_names = s->alarm_names.n, .prefix = s->alarm_prefix};
		struct cw_alarm_list l;
		memset(&l, 0, sizeof l);
		struct err e = {0};
		t->busy = NULL;
		if (cw_describe_alarms(t->opt->aws, &q, &l, NULL, &e) == ST_OK)
			tui_set_alarm_summary(t, cw_alarm_summary(&l));
		cw_alarm_list_free(&l);
		t->busy = NULL;
		t->next_alarm_poll = now + (s->refresh_seconds > 0 ? s->refresh_seconds : AWS_DEFAULT_REFRESH_SECONDS);
	}
}

static bool terminal_usable(void)
{
	const char *cup = tigetstr("cup");
	return cup && cup != (char *)-1;
}

static char *state_dir_default(const char *given)
{
	if (given && *given)
		return xstrdup(given);
	struct buf b = BUF_INIT;
	const char *x = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	if (x && *x == '/')
		buf_printf(&b, "%s/empdir-tui", x);
	else if (home && *home)
		buf_printf(&b, "%s/.local/state/empdir-tui", home);
	else
		return NULL;
	return buf_steal(&b);
}

int tui_run(struct backend *b, const struct tui_options *opt)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "empdir-tui: standard input and output must be a terminal; run it in a terminal (over SSH use ssh -t)\n");
		return 4;
	}
	struct tui t;
	memset(&t, 0, sizeof t);
	t.backend = b;
	t.ascii = opt->ascii;
	t.opt = opt;
	const char *term = getenv("TERM");
	if (!getenv("ESCDELAY"))
		set_escdelay(50);
	t.term = newterm(NULL, stdout, stdin);
	if (!t.term) {
		fprintf(stderr, "empdir-tui: unknown terminal type TERM=%s; set TERM to your terminal (e.g. xterm-256color)\n",
			term ? term : "(unset)");
		return 4;
	}
	set_term(t.term);
	if (!terminal_usable()) {
		endwin();
		delscreen(t.term);
		fprintf(stderr, "empdir-tui: the terminal TERM=%s cannot move the cursor; use a full-screen terminal (e.g. xterm-256color)\n",
			term ? term : "(unset)");
		return 4;
	}
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	setup_colors(&t, opt->no_color);
	install_signals();
	const char *idle = getenv("EMPDIR_TUI_TEST_IDLE");
	if (idle && *idle)
		t.idle_log = fopen(idle, "a");
	char *state_dir = state_dir_default(opt->state_dir);
	prompt_setup(opt->history_size, state_dir);
	free(state_dir);
	struct backend_waiter w = {.input_fd = STDIN_FILENO, .tick = wait_tick, .notify = wait_notify, .ctx = &t};
	if (b)
		backend_set_waiter(b, &w);
	if (opt->aws)
		aws_http_set_waiter(opt->aws, &w);
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	prompt_resize(rows, cols);

	struct err e = {0};
	int status = 0;
	struct screen *root = opt->alarms_only || !b ? alarms_screen_new(&t) : list_screen_new(&t, opt->page_size, &e);
	if (!root) {
		t.quit = true;
		status = 1;
	} else {
		tui_push(&t, root);
		const char *hint = b ? backend_hint(b) : NULL;
		if (hint)
			tui_message(&t, MSG_WARN, "%s", hint);
	}
	/* The badge: alarms polled in the background while other screens show. */
	if (opt->aws && opt->aws_settings && !opt->alarms_only)
		t.next_alarm_poll = time(NULL);
	int idle_polls = 0;
	while (!t.quit && !got_signal) {
		/* Drain everything typed before drawing: a paste costs one frame. */
		nodelay(stdscr, TRUE);
		wint_t wc;
		int r, n = 0;
		while (!t.quit && !got_signal) {
			if (t.npending > 0) {
				/* keys typed while a backend was waiting, in order */
				struct { int r; wint_t wc; } key = {t.pending[0].r, t.pending[0].wc};
				memmove(&t.pending[0], &t.pending[1], sizeof t.pending[0] * (size_t)--t.npending);
				handle_key(&t, key.r, key.wc);
			} else if ((r = wget_wch(stdscr, &wc)) != ERR) {
				handle_key(&t, r, wc);
			} else {
				break;
			}
			n++;
		}
		t.busy = NULL;
		if (t.quit || got_signal)
			break;
		run_timers(&t);
		draw_all(&t);
		idle_mark(&t);
		struct pollfd pfd[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = sig_pipe[0], .events = POLLIN}};
		int pr = poll(pfd, sig_pipe[0] >= 0 ? 2 : 1, wants_timer(&t) ? 1000 : -1);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd[0].revents & POLLIN))
			break; /* the terminal is gone */
		/* Readable but nothing decoded, again and again: input is at EOF. */
		idle_polls = (pr > 0 && (pfd[0].revents & POLLIN) && n == 0) ? idle_polls + 1 : 0;
		if (idle_polls > 100)
			break;
	}
	if (t.confirm_cb) { /* a question left open: its answer is no */
		void (*cb)(struct tui *, void *, bool) = t.confirm_cb;
		t.confirm_cb = NULL;
		cb(&t, t.confirm_ctx, false);
	}
	while (t.top) {
		struct screen *s = t.top;
		t.top = s->below;
		s->ops->destroy(s);
	}
	if (prompt_is_open())
		prompt_cancel(&t);
	prompt_shutdown();
	/* Names must not linger in terminals without an alternate screen. */
	erase();
	refresh();
	endwin();
	delscreen(t.term);
	if (status == 1)
		fprintf(stderr, "empdir-tui: %s\n", e.msg);
	if (t.idle_log)
		fclose(t.idle_log);
	buf_free(&t.msg);
	if (got_signal == SIGTERM || got_signal == SIGHUP || got_signal == SIGINT || got_signal == SIGQUIT)
		status = 128 + got_signal;
	return status;
}

void tui_set_cancel_on_input(struct tui *t, bool on) { t->cancel_on_input = on; }
