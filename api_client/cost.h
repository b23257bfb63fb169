/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cost: the month's cost by service from Cost Explorer, with a cache.
 *
 * Each GetCostAndUsage request costs 0.01 USD, so nothing here polls: the
 * caller says how old a cached answer may be (cost_options.max_age), and
 * the report says whether it came from the cache and how old it is, so the
 * screen can say so. The cache is one small JSON file per identity (profile
 * or environment key, and endpoint), named by a hash of it, in
 * $XDG_CACHE_HOME/empdir-tui/ (else ~/.cache/empdir-tui/), written
 * atomically with mode 0600. A cache file that cannot be read is ignored.
 *
 * The period is month to date: [1st of the month, today) in UTC, End being
 * exclusive. On the 1st that would be empty (AWS refuses Start == End), so
 * the whole previous month is used and the report says so.
 *
 * Amounts are UnblendedCost, grouped by SERVICE; Cost Explorer leaves Total
 * empty when grouping, so the total is the sum of the groups. Service names
 * are raw AWS text: sanitise before display.
 *
 * Ownership: struct cost_report is caller-owned; zero it first and release
 * it with cost_report_free(), whatever the status. */
#ifndef EMPDIR_COST_H
#define EMPDIR_COST_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "aws_http.h"

#define COST_PER_REQUEST_USD 0.01

struct cost_service {
	char *name; /* "AWS Lambda", raw */
	double amount;
};

struct cost_report {
	char start[16], end[16]; /* "YYYY-MM-DD"; end is exclusive */
	bool previous_month;     /* today is the 1st: the whole previous month */
	char *unit;              /* "USD" */
	struct cost_service *services; /* largest first */
	size_t n;
	double total;
	bool estimated;          /* AWS marks the figures as estimates */
	long long fetched_at;    /* when Cost Explorer answered, epoch s */
	bool from_cache;
	long long age;           /* seconds since fetched_at (>= 0) */
	bool cache_saved;        /* a fresh answer was written to the cache */
	unsigned requests;       /* paid requests made for this report (0 from cache) */
};

void cost_report_free(struct cost_report *r);
/* The report as JSON (period, unit, estimated, services), for the cache and
 * for `empdir-tui cost --json`, which add their own fields; cJSON_Delete it. */
cJSON *cost_report_json(const struct cost_report *r);

enum {
	COST_CACHE_ONLY = -1, /* max_age: never ask AWS (ST_NOT_FOUND without a cache) */
	COST_ALWAYS_FETCH = 0,
};

struct cost_options {
	/* COST_CACHE_ONLY, COST_ALWAYS_FETCH, or N: use a cached answer for the
	 * current period when it is younger than N seconds, else fetch. A
	 * cache-only read returns the cached answer whatever its period. */
	long max_age;
	const char *cache_dir;     /* NULL: the default; "" : no cache at all */
	const struct aws_env *env; /* for the default cache dir; NULL: the process's */
	long long now;             /* 0: the client's clock */
};

enum status cost_month_to_date(struct aws_http *h, const struct cost_options *o,
			       struct cost_report *out, struct err *e);

/* Building blocks, exposed for tests. */

/* The period for now (see above). */
void cost_period(long long now, char start[16], char end[16], bool *previous_month);
/* $XDG_CACHE_HOME/empdir-tui or $HOME/.cache/empdir-tui; empty when neither is set. */
void cost_default_cache_dir(const struct aws_env *env, struct buf *out);
/* One GetCostAndUsage answer, merged into r (services summed by name, unit
 * checked); *next_token gets NextPageToken or NULL (caller frees). On
 * failure r is as it was. */
enum status cost_parse_page(const cJSON *root, struct cost_report *r, char **next_token,
			    struct err *e);
/* Sort the services, compute the total. */
void cost_finish(struct cost_report *r);
/* The cache file: read it (ST_NOT_FOUND when absent, unreadable or for
 * another key) or write it atomically. */
enum status cost_cache_read(const char *path, const char *key, struct cost_report *r,
			    struct err *e);
enum status cost_cache_write(const char *path, const char *key, const struct cost_report *r,
			     struct err *e);

#endif
