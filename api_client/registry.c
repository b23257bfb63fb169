/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The list of compiled-in backends, looked up by name. */
#include <string.h>

#include "backend.h"

static const struct backend_ops *const backends[] = {
	&offline_backend_ops,
	&http_backend_ops,
	&pg_backend_ops,
};

const struct backend_ops *backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}
