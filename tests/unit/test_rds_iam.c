/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IAM database authentication tokens, checked against botocore's
 * generate_db_auth_token for the same keys, endpoint and time (computed
 * once with python3-botocore and a frozen clock). */
#include <stdlib.h>
#include <string.h>

#include "../../api_client/rds_iam.h"
#include "harness.h"

static void use_example_keys(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
}

TEST(token_matches_botocore)
{
	use_example_keys();
	struct rds_iam_request r = {.host = "empdir.cluster-abc.eu-west-1.rds.amazonaws.com", .port = 5432,
				    .user = "iam_admin", .region = "eu-west-1", .now = 1440938160};
	struct buf token = BUF_INIT;
	struct err e = {0};
	enum status st = rds_iam_token(&r, &token, &e);
	char got[1024];
	snprintf(got, sizeof got, "%s", buf_str(&token));
	rds_iam_token_wipe(&token);
	CHECK_INT(st, ST_OK);
	const char *prefix = "empdir.cluster-abc.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=iam_admin&";
	CHECK(strncmp(got, prefix, strlen(prefix)) == 0);
	CHECK(strstr(got, "X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Feu-west-1%2Frds-db%2Faws4_request") != NULL);
	CHECK(strstr(got, "X-Amz-Expires=900") != NULL);
	CHECK(strstr(got, "X-Amz-Signature=6ef794e4a980beded107dd7aa4e5ad4ac7e501924ad5d52e665ef215976c5f33") != NULL);
}

TEST(missing_user_or_credentials_is_a_clear_error)
{
	use_example_keys();
	struct buf token = BUF_INIT;
	struct err e = {0};
	struct rds_iam_request r = {.host = "db.example", .user = "", .region = "eu-west-1"};
	CHECK_INT(rds_iam_token(&r, &token, &e), ST_INVALID);
	CHECK(strstr(e.msg, "user") != NULL);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	r.user = "u";
	CHECK(rds_iam_token(&r, &token, &e) != ST_OK);
	CHECK(strstr(e.msg, "IAM database authentication") != NULL);
	CHECK(strstr(e.msg, "wJalr") == NULL);
	rds_iam_token_wipe(&token);
}

int main(void)
{
	harness_init();
	RUN(token_matches_botocore);
	RUN(missing_user_or_credentials_is_a_clear_error);
	return harness_done();
}
