/* Internal: error codes that come from elsewhere, as corio's. */
#ifndef CORIO_BASE_ERRORS_H
#define CORIO_BASE_ERRORS_H

/* getaddrinfo's result `rc` as a corio code: 0, CORIO_EAI_* (an EAI_* code corio does not name
 * is CORIO_EAI_FAIL), -err for EAI_SYSTEM (errno as getaddrinfo left it; -EIO if it is 0),
 * -ENOMEM for EAI_MEMORY. The one place that knows the C library's EAI_* numbers. */
int corio__eai_error(int rc, int err);

#endif
