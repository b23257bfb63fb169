/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The alarms screen: the deployment's CloudWatch alarms (state in colour
 * and in words, reason, since when, condition), the selected alarm's
 * recent history, the Lambda function's last 24 hours as sparklines and the
 * month's estimated charges. R refreshes; with refresh_seconds set it
 * refreshes itself and shows the countdown. Each part reports its own
 * failure in place, so a missing permission for one does not hide the rest.
 * All AWS text is sanitised by the drawing helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../api_client/aws_settings.h"
#include "../api_client/cloudwatch.h"
#include "../core/buf.h"
#include "tui.h"

struct alarms_screen {
	struct screen base;
	struct cw_alarm_list alarms;
	struct cw_history history;
	struct cw_lambda_metrics metrics;
	struct cw_billing billing;
	bool have_alarms, have_metrics, have_billing;
	char alarms_err[520], history_err[520], metrics_err[520], billing_err[520];
	char function[128];
	size_t sel;
	time_t refreshed, next_refresh;
};

static struct alarms_screen *as(struct screen *s) { return (struct alarms_screen *)s; }

static void clear_data(struct alarms_screen *a)
{
	cw_alarm_list_free(&a->alarms);
	cw_history_free(&a->history);
	cw_lambda_metrics_free(&a->metrics);
	cw_billing_free(&a->billing);
	a->have_alarms = a->have_metrics = a->have_billing = false;
	a->alarms_err[0] = a->history_err[0] = a->metrics_err[0] = a->billing_err[0] = '\0';
}

static void note(char *dst, size_t n, enum status st, const struct err *e)
{
	snprintf(dst, n, "%s", e->msg[0] ? e->msg : status_name(st));
}

static void refresh_data(struct alarms_screen *a, struct tui *t)
{
	struct aws_http *h = tui_aws(t);
	const struct aws_settings *s = tui_aws_settings(t);
	clear_data(a);
	a->refreshed = time(NULL);
	a->next_refresh = s && s->refresh_seconds > 0 ? a->refreshed + s->refresh_seconds : 0;
	if (!h) {
		snprintf(a->alarms_err, sizeof a->alarms_err, "AWS is not configured: add an [aws] section (see config.example)");
		return;
	}
	struct err e = {0};
	struct cw_alarm_query q = {
		.names = (const char *const *)s->alarm_names.v, .n_names = s->alarm_names.n, .prefix = s->alarm_prefix};
	enum status st = cw_describe_alarms(h, &q, &a->alarms, NULL, &e);
	if (st != ST_OK) {
		note(a->alarms_err, sizeof a->alarms_err, st, &e);
		if (st == ST_CANCELLED)
			return;
	} else {
		a->have_alarms = true;
		tui_set_alarm_summary(t, cw_alarm_summary(&a->alarms));
	}
	if (a->sel >= a->alarms.n)
		a->sel = a->alarms.n ? a->alarms.n - 1 : 0;
	long long now = aws_http_now(h);
	if (a->have_alarms) {
		memset(&e, 0, sizeof e);
		st = cw_history_for_alarms(h, &a->alarms, now - 7 * 86400, true, 50, &a->history, &e);
		if (st != ST_OK)
			note(a->history_err, sizeof a->history_err, st, &e);
	}
	const char *fn = s->function_name ? s->function_name : cw_guess_function(&a->alarms);
	snprintf(a->function, sizeof a->function, "%s", fn ? fn : "");
	if (fn) {
		memset(&e, 0, sizeof e);
		st = cw_get_lambda_metrics(h, fn, now, 0, &a->metrics, &e);
		if (st == ST_OK)
			a->have_metrics = true;
		else
			note(a->metrics_err, sizeof a->metrics_err, st, &e);
	} else {
		snprintf(a->metrics_err, sizeof a->metrics_err, "no Lambda function: set function_name in [aws]");
	}
	memset(&e, 0, sizeof e);
	st = cw_get_billing(h, now, 0, &a->billing, &e);
	if (st == ST_OK)
		a->have_billing = true;
	else
		note(a->billing_err, sizeof a->billing_err, st, &e);
}

static int state_role(enum cw_state s)
{
	return s == CW_STATE_ALARM ? ROLE_ERROR : s == CW_STATE_OK ? ROLE_OK : ROLE_DIM;
}

static void when(double epoch, char *out, size_t n)
{
	if (epoch <= 0) {
		snprintf(out, n, "-");
		return;
	}
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

/* A sparkline of n buckets; NAN draws as a gap. */
static void sparkline(struct buf *out, const double *v, size_t n, bool ascii)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	static const char ascii_bars[] = "_.-:=+*#";
	double max = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && v[i] > max)
			max = v[i];
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i])) {
			buf_putc(out, ' ');
			continue;
		}
		int level = max > 0 ? (int)(v[i] / max * 7.0 + 0.5) : 0;
		if (level < 0)
			level = 0;
		if (level > 7)
			level = 7;
		if (ascii)
			buf_putc(out, ascii_bars[level]);
		else
			buf_puts(out, bars[level]);
	}
}

static int draw_alarm_rows(struct alarms_screen *a, struct tui *t, WINDOW *w, int y, int h, int cols)
{
	if (a->alarms_err[0]) {
		tui_draw_text(w, y++, 2, a->alarms_err, cols - 3, tui_attr(t, ROLE_ERROR), true);
		return y;
	}
	if (a->alarms.n == 0)
		tui_draw_text(w, y++, 2, "no alarms found with these names or prefix", cols - 3, tui_attr(t, ROLE_DIM), true);
	for (size_t i = 0; i < a->alarms.n && y < h; i++, y++) {
		const struct cw_alarm *al = &a->alarms.v[i];
		char since[32];
		when(al->state_since, since, sizeof since);
		attr_t base = i == a->sel ? tui_attr(t, ROLE_SELECTED) : tui_attr(t, ROLE_NORMAL);
		tui_draw_text(w, y, 0, i == a->sel ? ">" : " ", 1, base, true);
		tui_draw_text(w, y, 1, cw_state_name(al->state), 18,
			      i == a->sel ? base : tui_attr(t, state_role(al->state)) | A_BOLD, true);
		int nw = cols >= 80 ? 30 : cols / 3;
		tui_draw_text(w, y, 19, al->name, nw, base, true);
		tui_draw_text(w, y, 20 + nw, since, 17, base, true);
		int rx = 38 + nw;
		if (rx < cols)
			tui_draw_text(w, y, rx, al->state_reason, cols - rx, base, true);
	}
	return y;
}

static int draw_selected(struct alarms_screen *a, struct tui *t, WINDOW *w, int y, int h, int cols)
{
	if (a->alarms.n == 0 || y >= h)
		return y;
	const struct cw_alarm *al = &a->alarms.v[a->sel];
	struct buf cond = BUF_INIT;
	cw_alarm_condition(al, &cond);
	buf_printf(&cond, " (%s)", al->region);
	tui_draw_text(w, y++, 2, buf_str(&cond), cols - 3, tui_attr(t, ROLE_LABEL), true);
	buf_free(&cond);
	if (y < h)
		tui_draw_text(w, y++, 2, al->state_reason, cols - 3, tui_attr(t, ROLE_NORMAL), true);
	int shown = 0;
	if (a->history_err[0] && y < h)
		tui_draw_text(w, y++, 2, a->history_err, cols - 3, tui_attr(t, ROLE_DIM), true);
	for (size_t i = 0; i < a->history.n && y < h && shown < 3; i++) {
		const struct cw_history_item *it = &a->history.v[i];
		if (strcmp(it->alarm_name, al->name) != 0)
			continue;
		char at[32], line[600];
		when(it->time, at, sizeof at);
		if (it->has_states)
			snprintf(line, sizeof line, "%s  %s -> %s", at, cw_state_name(it->old_state), cw_state_name(it->new_state));
		else
			snprintf(line, sizeof line, "%s  %s", at, it->summary);
		tui_draw_text(w, y++, 4, line, cols - 5, tui_attr(t, ROLE_DIM), true);
		shown++;
	}
	return y;
}

static int draw_metrics(struct alarms_screen *a, struct tui *t, WINDOW *w, int y, int h, int cols)
{
	if (y >= h)
		return y;
	char title[200];
	snprintf(title, sizeof title, "Lambda %s, last 24 h", a->function[0] ? a->function : "(unknown function)");
	tui_draw_text(w, y++, 0, title, cols, tui_attr(t, ROLE_HEADER), true);
	if (!a->have_metrics) {
		if (y < h)
			tui_draw_text(w, y++, 2, a->metrics_err, cols - 3, tui_attr(t, ROLE_DIM), true);
		return y;
	}
	size_t n = (size_t)(cols > 40 ? cols - 34 : 6);
	if (n > 96)
		n = 96;
	int period = (int)((a->metrics.end - a->metrics.start) / (long long)n);
	double *v = xcalloc(n, sizeof *v);
	for (int m = 0; m < CW_LAMBDA_COUNT && y < h; m++, y++) {
		const struct cw_series *s = &a->metrics.series[m];
		cw_series_buckets(s, a->metrics.start, period > 0 ? period : 1, n, v);
		double total = 0, last = NAN;
		for (size_t i = 0; i < s->n; i++) {
			total += s->values[i];
			last = s->values[i];
		}
		struct buf line = BUF_INIT;
		sparkline(&line, v, n, tui_ascii(t));
		char label[64], value[64];
		snprintf(label, sizeof label, "%s (%s)", cw_lambda_metric_name((enum cw_lambda_metric)m),
			 cw_lambda_metric_stat((enum cw_lambda_metric)m));
		if (m == CW_LAMBDA_DURATION)
			snprintf(value, sizeof value, isnan(last) ? "-" : "%.0f ms", last);
		else
			snprintf(value, sizeof value, "%.0f", total);
		tui_draw_text(w, y, 2, label, 20, tui_attr(t, ROLE_LABEL), true);
		tui_draw_text(w, y, 23, buf_str(&line), (int)n, tui_attr(t, m == CW_LAMBDA_ERRORS && total > 0 ? ROLE_ERROR : ROLE_NORMAL), true);
		tui_draw_text(w, y, 24 + (int)n, value, cols - 25 - (int)n, tui_attr(t, ROLE_NORMAL), true);
		buf_free(&line);
	}
	free(v);
	return y;
}

static void alarms_draw(struct screen *s, struct tui *t, WINDOW *w, int h, int cols)
{
	struct alarms_screen *a = as(s);
	werase(w);
	char head[300], when_s[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&a->refreshed, &tm);
	strftime(when_s, sizeof when_s, "%H:%M:%S", &tm);
	if (a->next_refresh)
		snprintf(head, sizeof head, "Alarms  (refreshed %s, next in %ld s; R refreshes, $ cost)", when_s,
			 (long)(a->next_refresh > now ? a->next_refresh - now : 0));
	else
		snprintf(head, sizeof head, "Alarms  (refreshed %s; R refreshes, $ cost)", when_s);
	tui_draw_text(w, 0, 0, head, cols, tui_attr(t, ROLE_HEADER), true);
	int y = draw_alarm_rows(a, t, w, 1, h - 8, cols);
	y = draw_selected(a, t, w, y + 1, h - 7, cols);
	y = draw_metrics(a, t, w, y + 1, h - 2, cols);
	if (y < h - 1) {
		char bill[600];
		if (a->have_billing && a->billing.has_latest)
			snprintf(bill, sizeof bill, "Estimated charges this month: %.2f USD (AWS/Billing, us-east-1)",
				 a->billing.latest);
		else if (a->have_billing)
			snprintf(bill, sizeof bill, "Estimated charges this month: no data yet");
		else
			snprintf(bill, sizeof bill, "Estimated charges: %s", a->billing_err);
		tui_draw_text(w, y, 0, bill, cols, tui_attr(t, a->have_billing ? ROLE_NORMAL : ROLE_DIM), true);
	}
	tui_draw_status(t, w, h - 1, cols, "alarms");
}

static bool alarms_action(struct screen *s, struct tui *t, enum action act)
{
	struct alarms_screen *a = as(s);
	switch (act) {
	case ACT_UP: if (a->sel > 0) a->sel--; return true;
	case ACT_DOWN: if (a->sel + 1 < a->alarms.n) a->sel++; return true;
	case ACT_RELOAD:
		refresh_data(a, t);
		tui_message(t, MSG_INFO, "refreshed");
		return true;
	case ACT_CANCEL:
		tui_pop(t);
		return true;
	default:
		return false;
	}
}

static void alarms_timer(struct screen *s, struct tui *t)
{
	struct alarms_screen *a = as(s);
	if (a->next_refresh && time(NULL) >= a->next_refresh)
		refresh_data(a, t);
}

static void alarms_destroy(struct screen *s)
{
	clear_data(as(s));
	free(s);
}

static const struct screen_ops alarms_ops = {
	.name = "alarms",
	.scope = SCOPE_ALARMS,
	.draw = alarms_draw,
	.action = alarms_action,
	.timer = alarms_timer,
	.destroy = alarms_destroy,
};

struct screen *alarms_screen_new(struct tui *t)
{
	struct alarms_screen *a = xcalloc(1, sizeof *a);
	a->base.ops = &alarms_ops;
	refresh_data(a, t);
	return &a->base;
}
