/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "rds_iam.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aws_creds.h"
#include "sigv4.h"

#define TOKEN_SECONDS 900

enum status rds_iam_token(const struct rds_iam_request *r, struct buf *token, struct err *e)
{
	if (!r->host || !*r->host || !r->user || !*r->user)
		return err_set(e, ST_INVALID, "auth = iam needs the host and the user of the connection");
	struct aws_creds_options o = {.profile = r->profile, .region = r->region, .now = r->now};
	struct aws_credentials creds = AWS_CREDENTIALS_INIT;
	struct buf region = BUF_INIT, host = BUF_INIT, query = BUF_INIT;
	enum status st = aws_creds_region(&o, &region, NULL, e);
	if (st == ST_OK)
		st = aws_creds_resolve(&o, &creds, e);
	if (st != ST_OK) {
		err_prefix(e, "IAM database authentication");
		goto done;
	}
	buf_printf(&host, "%s:%d", r->host, r->port > 0 ? r->port : 5432);
	buf_puts(&query, "Action=connect&DBUser=");
	sigv4_uri_encode(&query, r->user, strlen(r->user), false);
	struct sigv4_request req = {.method = "GET", .host = host.data, .path = "/", .query = query.data};
	struct sigv4_credentials sc = {creds.access_key_id.data, creds.secret_access_key.data,
				       creds.session_token.len ? creds.session_token.data : NULL};
	struct sigv4_options so = {.presign = true, .expires_seconds = TOKEN_SECONDS};
	char date[17];
	sigv4_format_date(r->now ? r->now : (long long)time(NULL), date);
	struct sigv4_result res = SIGV4_RESULT_INIT;
	st = sigv4_sign_request(&req, &sc, region.data, "rds-db", date, &so, &res, e);
	if (st == ST_OK)
		buf_printf(token, "%s/?%s", host.data, res.presigned_query.data);
	sigv4_result_free(&res);
done:
	aws_credentials_free(&creds);
	buf_free(&region);
	buf_free(&host);
	buf_free(&query);
	return st;
}

void rds_iam_token_wipe(struct buf *token)
{
	if (token->data)
		explicit_bzero(token->data, token->cap);
	buf_free(token);
}
