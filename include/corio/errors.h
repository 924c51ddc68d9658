/* corio's error codes: one list, from which the constants, corio_strerror() and corio_err_name()
 * are made (docs/conventions.md, row "errors").
 *
 * A corio call that fails returns a negative code: a negative errno value for what the system
 * reports (-ECONNRESET, -ENOMEM, -ETIMEDOUT, -ECANCELED, ...), or one of the CORIO_E* codes below
 * for corio's own conditions. The CORIO_E* codes lie below -20000, outside errno's range.
 */
#ifndef CORIO_ERRORS_H
#define CORIO_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, description): CORIO_<NAME> = value. */
#define CORIO_ERROR_MAP(X)                                                                          \
    /* the core */                                                                                  \
    X(EINVALSTATE, -20001, "invalid state for this operation") /* asyncio's InvalidStateError:   \
                                       result of a pending future, a second set_result, ... */    \
    X(ENOTASK, -20002, "awaiting outside a task")                                                   \
    X(ECLOSED, -20003, "event loop is closed")                                                      \
    X(ERUNNING, -20004, "an event loop is already running")                                         \
    X(ESTOPPED, -20005, "event loop stopped before the future completed")                           \
    X(ENOLOOP, -20006, "no event loop in this thread")                                              \
    /* synchronisation primitives */                                                                \
    X(EBROKEN, -20101, "barrier is broken") /* asyncio's BrokenBarrierError */                      \
    X(ESHUTDOWN, -20102, "queue is shut down") /* asyncio's QueueShutDown */                        \
    /* streams */                                                                                   \
    X(EINCOMPLETE, -20201, "end of stream before the data was complete") /* IncompleteReadError */ \
    X(ELIMIT, -20202, "line or chunk longer than the stream's limit") /* LimitOverrunError */      \
    /* signals and processes */                                                                     \
    X(ESIGOWNED, -20301, "signal is taken by another event loop")                                   \
    X(EINTERRUPTED, -20302, "interrupted by SIGINT") /* asyncio's KeyboardInterrupt (corio_run) */ \
    /* TLS (<corio/tls.h>) */                                                                       \
    X(ETLSVERIFY, -20401, "TLS peer certificate verification failed")                              \
    X(ETLSHOSTNAME, -20402, "TLS certificate does not match the server's name")                    \
    X(ETLSTIMEOUT, -20403, "TLS handshake timed out")                                              \
    X(ETLSPROTO, -20404, "TLS protocol error or handshake refused by the peer")                    \
    X(ETLSEOF, -20405, "TLS peer closed the connection without close_notify")                      \
    X(ETLSCONFIG, -20406, "TLS certificate, key or setting cannot be used")                        \
    /* name lookup: getaddrinfo's EAI_* codes (EAI_SYSTEM and EAI_MEMORY come back as -errno) */    \
    X(EAI_AGAIN, -21002, "temporary failure in name resolution")                                    \
    X(EAI_BADFLAGS, -21003, "bad value for ai_flags")                                               \
    X(EAI_FAIL, -21004, "non-recoverable failure in name resolution")                               \
    X(EAI_FAMILY, -21005, "address family not supported")                                           \
    X(EAI_NONAME, -21006, "name or service not known")                                              \
    X(EAI_SERVICE, -21007, "service not supported for socket type")                                 \
    X(EAI_SOCKTYPE, -21008, "socket type not supported")                                            \
    X(EAI_NODATA, -21009, "no address associated with hostname")                                    \
    X(EAI_ADDRFAMILY, -21010, "address family for hostname not supported")                          \
    X(EAI_OVERFLOW, -21011, "argument buffer overflow")

enum {
#define CORIO__ERROR_ENUM(name, value, text) CORIO_##name = value,
    CORIO_ERROR_MAP(CORIO__ERROR_ENUM)
#undef CORIO__ERROR_ENUM
    CORIO__ERROR_MAP_END = 0
};

/* A static description of `err`: any code corio returns (a negative errno value or CORIO_E*),
 * "success" for 0 and other non-negative values, "unknown error" otherwise. Never NULL. ANY
 * THREAD. */
const char *corio_strerror(int err);

/* The symbolic name of `err`: "OK" for 0, "ECANCELED" for -ECANCELED, "CORIO_EINVALSTATE",
 * "CORIO_EAI_NONAME", ...; "UNKNOWN" for a code it does not know. Never NULL. ANY THREAD. */
const char *corio_err_name(int err);

#ifdef __cplusplus
}
#endif

#endif
