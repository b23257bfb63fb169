/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "loader.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"

#define CHUNK_BYTES (1u << 20)
#define NFIELDS 6
#define ABSENT UINT32_MAX

struct chunk {
	char *data;
	size_t used, cap;
	uint32_t (*rows)[NFIELDS]; /* offsets into data; ABSENT for NULL */
	size_t n, rowcap;
};

struct loader {
	sqlite3 *db;
	sqlite3_stmt *ins, *ver;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *queue[LOADER_CHUNKS]; /* filled, waiting for the writer */
	size_t qhead, qlen;
	struct chunk *spare[LOADER_CHUNKS + 1]; /* written, ready for reuse */
	size_t nspare;
	struct chunk *filling;
	bool done;     /* no more chunks will come */
	bool failed;   /* the writer stopped on an error */
	int rc;        /* its SQLite result code */
	char why[300];
};

static struct chunk *chunk_new(void)
{
	struct chunk *c = xcalloc(1, sizeof *c);
	c->cap = CHUNK_BYTES;
	c->data = xmalloc(c->cap);
	c->rowcap = 8192;
	c->rows = xcalloc(c->rowcap, sizeof *c->rows);
	return c;
}

static void chunk_free(struct chunk *c)
{
	if (!c)
		return;
	free(c->data);
	free(c->rows);
	free(c);
}

static const char *field(const struct chunk *c, size_t row, int f)
{
	uint32_t off = c->rows[row][f];
	return off == ABSENT ? NULL : c->data + off;
}

/* Write one chunk's rows; false (with l->why) on the first failure. */
static bool write_chunk(struct loader *l, const struct chunk *c)
{
	for (size_t r = 0; r < c->n; r++) {
		for (int f = 0; f < 5; f++)
			sqlite3_bind_text(l->ins, f + 1, field(c, r, f), -1, SQLITE_STATIC);
		int rc = sqlite3_step(l->ins);
		sqlite3_reset(l->ins);
		if (rc == SQLITE_DONE && field(c, r, 5)) {
			sqlite3_bind_text(l->ver, 1, field(c, r, 0), -1, SQLITE_STATIC);
			sqlite3_bind_text(l->ver, 2, field(c, r, 5), -1, SQLITE_STATIC);
			rc = sqlite3_step(l->ver);
			sqlite3_reset(l->ver);
		}
		if (rc != SQLITE_DONE) {
			l->rc = rc;
			const char *id = field(c, r, 0);
			snprintf(l->why, sizeof l->why, "%s (employee %.40s)", sqlite3_errmsg(l->db), id ? id : "?");
			return false;
		}
	}
	return true;
}

static void *writer_main(void *arg)
{
	struct loader *l = arg;
	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->qlen && !l->done)
			pthread_cond_wait(&l->cv, &l->mu);
		if (!l->qlen)
			break;
		struct chunk *c = l->queue[l->qhead];
		l->qhead = (l->qhead + 1) % LOADER_CHUNKS;
		l->qlen--;
		pthread_mutex_unlock(&l->mu);
		bool ok = write_chunk(l, c);
		pthread_mutex_lock(&l->mu);
		c->used = c->n = 0;
		l->spare[l->nspare++] = c;
		pthread_cond_broadcast(&l->cv);
		if (!ok) {
			l->failed = true;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct loader *loader_start(sqlite3 *db, struct err *e)
{
	struct loader *l = xcalloc(1, sizeof *l);
	l->db = db;
	if (sqlite3_prepare_v2(db, "INSERT INTO employees VALUES (?1, ?2, ?3, ?4, ?5)", -1, &l->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO empdir_remote VALUES (?1, ?2)", -1, &l->ver, NULL) !=
		    SQLITE_OK) {
		err_set(e, ST_FAIL, "%s", sqlite3_errmsg(db));
		sqlite3_finalize(l->ins);
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if (pthread_create(&l->thread, NULL, writer_main, l) != 0) {
		err_set(e, ST_FAIL, "cannot start its writer thread");
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
		sqlite3_finalize(l->ins);
		sqlite3_finalize(l->ver);
		free(l);
		return NULL;
	}
	l->filling = chunk_new();
	return l;
}

/* Hand the filling chunk to the writer and take an empty one; waits while
 * LOADER_CHUNKS are queued. False when the writer has stopped. */
static bool hand_over(struct loader *l)
{
	pthread_mutex_lock(&l->mu);
	while (l->qlen == LOADER_CHUNKS && !l->failed)
		pthread_cond_wait(&l->cv, &l->mu);
	bool ok = !l->failed;
	if (ok) {
		l->queue[(l->qhead + l->qlen) % LOADER_CHUNKS] = l->filling;
		l->qlen++;
		l->filling = l->nspare ? l->spare[--l->nspare] : NULL;
		pthread_cond_broadcast(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
	if (ok && !l->filling)
		l->filling = chunk_new();
	return ok;
}

bool loader_add(struct loader *l, const char *id, const char *fullname, const char *location,
		const char *job_title, const char *badges, const char *version)
{
	const char *f[NFIELDS] = {id, fullname, location, job_title, badges, version};
	size_t len[NFIELDS], need = 0;
	for (int i = 0; i < NFIELDS; i++) {
		len[i] = f[i] ? strlen(f[i]) + 1 : 0;
		need += len[i];
	}
	struct chunk *c = l->filling;
	if ((c->used + need > c->cap || c->n == c->rowcap) && c->n) {
		if (!hand_over(l))
			return false;
		c = l->filling;
	}
	if (need > c->cap) { /* one row larger than a chunk: grow this one */
		c->cap = need;
		c->data = xrealloc(c->data, c->cap);
	}
	for (int i = 0; i < NFIELDS; i++) {
		if (!f[i]) {
			c->rows[c->n][i] = ABSENT;
			continue;
		}
		memcpy(c->data + c->used, f[i], len[i]);
		c->rows[c->n][i] = (uint32_t)c->used;
		c->used += len[i];
	}
	c->n++;
	return true;
}

enum status loader_finish(struct loader *l, int *rc, struct err *e)
{
	bool handed = !l->filling->n || hand_over(l);
	pthread_mutex_lock(&l->mu);
	l->done = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	enum status st = ST_OK;
	if (l->failed || !handed) {
		*rc = l->rc;
		st = err_set(e, ST_FAIL, "%s", l->why);
	}
	sqlite3_finalize(l->ins);
	sqlite3_finalize(l->ver);
	for (size_t i = 0; i < l->qlen; i++)
		chunk_free(l->queue[(l->qhead + i) % LOADER_CHUNKS]);
	for (size_t i = 0; i < l->nspare; i++)
		chunk_free(l->spare[i]);
	chunk_free(l->filling);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
	return st;
}
