/* SPDX-License-Identifier: GPL-3.0-or-later */
/* prompt: GNU readline as the line editor of the bottom line.
 *
 * ncurses owns the keyboard; readline is driven through its callback API
 * with the keys the engine hands it (see ../shared/notes/terminal.md). It
 * never touches the terminal: no termios changes, no signal handlers, no
 * LINES/COLUMNS in the environment, output to /dev/null. Each prompt kind
 * keeps its own history; search and command histories persist in
 * $XDG_STATE_HOME/empdir-tui/ (mode 0600) unless history_size is 0.
 * Readline's state is process-wide, so there is one prompt at a time. */
#ifndef EMPDIR_PROMPT_H
#define EMPDIR_PROMPT_H

#include "tui.h"

void prompt_setup(int history_size, const char *state_dir);
void prompt_shutdown(void);
void prompt_open(struct tui *t, const struct prompt_spec *spec);
bool prompt_is_open(void);
/* Feed one key (a character, or an ncurses KEY_* code when is_code). */
void prompt_key(struct tui *t, int key, bool is_code, bool alt);
void prompt_cancel(struct tui *t);
/* Draw the prompt into row y; returns the cursor column. */
int prompt_draw(WINDOW *w, int y, int cols);
void prompt_resize(int rows, int cols);
/* Completion candidates to show (after Tab), or NULL. */
const char *prompt_matches(void);

#endif
