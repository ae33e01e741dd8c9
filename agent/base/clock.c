/*
 * clock.c - the monotonic and wall clocks in ms (clock.h), with the test hook. Any thread.
 *
 * The hook is one relaxed atomic load per call (a plain load on x86 and arm64): cheaper
 * than the clock_gettime() it guards, and it keeps a test that sets the clock while an
 * output thread reads it free of data races.
 */
#include "agent/base/clock.h"

#include <stdatomic.h>
#include <time.h>

typedef int64_t (*clock_fn)(void);

static _Atomic(clock_fn) test_mono;
static _Atomic(clock_fn) test_wall;

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ms(void)
{
    clock_fn f = atomic_load_explicit(&test_mono, memory_order_relaxed);
    return f ? f() : read_clock(CLOCK_MONOTONIC);
}

int64_t wall_ms(void)
{
    clock_fn f = atomic_load_explicit(&test_wall, memory_order_relaxed);
    return f ? f() : read_clock(CLOCK_REALTIME);
}

void clock_set_for_test(int64_t (*mono)(void), int64_t (*wall)(void))
{
    atomic_store(&test_mono, mono);
    atomic_store(&test_wall, wall);
}
