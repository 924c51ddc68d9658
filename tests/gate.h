/* A gate that jobs on worker threads wait at until the test opens it: how the executor tests
 * hold a job "running" for as long as they need. Shared by Criterion and standalone tests. */
#ifndef CORIO_TESTS_GATE_H
#define CORIO_TESTS_GATE_H

#include <pthread.h>
#include <stdatomic.h>

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int at_gate; /* jobs that reached the gate */

static inline void gate_set(int open)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = open;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

/* A corio_job_fn: waits at the gate, then returns its argument. */
static inline void *gated_job(void *arg, int *err)
{
    (void)err;
    atomic_fetch_add(&at_gate, 1);
    pthread_mutex_lock(&gate_mu);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    return arg;
}

#endif
