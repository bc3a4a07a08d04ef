/*
 * hosted_thread.c - the per-thread id registry behind bsa_hosted_thread_cpu_id.
 *
 * State: holders[id] = live threads holding id, for id < BSA_MAX_CPUS; every id >= limit
 * has holders == 0 (set_limit refuses to break that). A thread caches id + 1 in a
 * thread-local (0 = unregistered) and stores the same value under a pthread key whose
 * destructor gives the id back at thread exit.
 * Lock: one mutex for holders[] and limit, taken only when a thread registers, exits,
 * or someone reads or sets the limit; never on the fast path.
 */
#include <pthread.h>

#include "bsa_hosted.h"

static pthread_mutex_t hosted_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned hosted_limit = BSA_MAX_CPUS;  /* under hosted_lock */
static unsigned hosted_holders[BSA_MAX_CPUS]; /* under hosted_lock */

static pthread_once_t hosted_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t hosted_key;
static bool hosted_key_ok; /* written once under pthread_once, which orders the reads */

/* The thread's id; HOSTED_NO_ID: not registered. Not id + 1 with 0 for none: the
 * subtraction was one more instruction on every call, twice per object pair. */
#define HOSTED_NO_ID ((unsigned)-1)
static _Thread_local unsigned hosted_tls_id = HOSTED_NO_ID;

static void hosted_release(void *value) {
    unsigned id = (unsigned)((uintptr_t)value - 1u);
    pthread_mutex_lock(&hosted_lock);
    hosted_holders[id]--;
    pthread_mutex_unlock(&hosted_lock);
    hosted_tls_id = HOSTED_NO_ID;
}

static void hosted_make_key(void) {
    /* If the process is out of keys, ids are simply never recycled. */
    hosted_key_ok = pthread_key_create(&hosted_key, hosted_release) == 0;
}

/* Slow path, once per thread: the id with the fewest holders, lowest on ties. That is
 * the smallest free id while one exists, and the least shared one after. Out of line and
 * cold: inlined, its saved registers cost the fast path 7 of its 12 instructions, and
 * the fast path runs twice per object pair. */
__attribute__((noinline, cold)) static unsigned hosted_register(void) {
    pthread_once(&hosted_key_once, hosted_make_key);
    pthread_mutex_lock(&hosted_lock);
    unsigned best = 0;
    for (unsigned id = 1; id < hosted_limit && hosted_holders[best] != 0; id++)
        if (hosted_holders[id] < hosted_holders[best]) best = id;
    hosted_holders[best]++;
    pthread_mutex_unlock(&hosted_lock);

    hosted_tls_id = best;
    if (hosted_key_ok) /* ENOMEM here only means this id is not recycled */
        (void)pthread_setspecific(hosted_key, (void *)(uintptr_t)(best + 1u));
    return best;
}

unsigned bsa_hosted_thread_cpu_id(void *ctx) {
    (void)ctx;
    unsigned id = hosted_tls_id;
    if (__builtin_expect(id != HOSTED_NO_ID, 1)) return id;
    return hosted_register();
}

unsigned bsa_hosted_thread_cpu_limit(void) {
    pthread_mutex_lock(&hosted_lock);
    unsigned n = hosted_limit;
    pthread_mutex_unlock(&hosted_lock);
    return n;
}

bool bsa_hosted_thread_cpu_set_limit(unsigned n) {
    if (n == 0 || n > BSA_MAX_CPUS) return false;
    pthread_mutex_lock(&hosted_lock);
    bool ok = true;
    for (unsigned id = n; id < hosted_limit; id++)
        if (hosted_holders[id] != 0) ok = false;
    if (ok) hosted_limit = n;
    pthread_mutex_unlock(&hosted_lock);
    return ok;
}

unsigned bsa_hosted_thread_cpu_holders(unsigned id) {
    if (id >= BSA_MAX_CPUS) return 0;
    pthread_mutex_lock(&hosted_lock);
    unsigned n = hosted_holders[id];
    pthread_mutex_unlock(&hosted_lock);
    return n;
}
