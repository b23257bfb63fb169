/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rds_iam: IAM database authentication tokens for RDS and Aurora.
 *
 * A token is a SigV4 presigned "connect" request for service rds-db,
 * valid 15 minutes, used as the PostgreSQL password (over TLS). The pg
 * backend asks for a fresh one on every (re)connect. The token is a
 * secret: the caller wipes it (rds_iam_token_wipe) and never shows it. */
#ifndef EMPDIR_RDS_IAM_H
#define EMPDIR_RDS_IAM_H

#include "../core/buf.h"
#include "../core/err.h"

struct rds_iam_request {
	const char *host;    /* the endpoint the client connects to */
	int port;            /* 0: 5432 */
	const char *user;    /* the database user (granted rds_iam) */
	const char *region;  /* NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile's */
	const char *profile; /* NULL: as the AWS CLI chooses */
	long long now;       /* 0: the clock */
};

/* "host:port/?Action=connect&DBUser=...&X-Amz-...": appended to token. */
enum status rds_iam_token(const struct rds_iam_request *r, struct buf *token, struct err *e);
void rds_iam_token_wipe(struct buf *token);

#endif
