/*
 * clock.h - the agent's two clocks, in milliseconds, and the one hook tests use to set them.
 *
 * Ground floor: every folder reads time through here (deadlines, retries, rate windows on
 * the monotonic clock; @timestamp fallbacks, file names, "last sent" times on the wall
 * clock), so a test can drive every timer of the code under test from one place. Any
 * thread may call mono_ms()/wall_ms(); clock_set_for_test() is meant to be called before
 * the threads that read the clock start (the hook is an atomic pointer, so a late call is
 * not a data race, only a jump in time).
 */
#ifndef LF_CLOCK_H
#define LF_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms: for deadlines and intervals (never jumps). */
int64_t mono_ms(void);
/* CLOCK_REALTIME in ms since the epoch: for what people read (timestamps, file names). */
int64_t wall_ms(void);

/* Test hook: from now on mono_ms() returns mono() and wall_ms() returns wall(); a NULL
 * restores the system clock for that one. */
void clock_set_for_test(int64_t (*mono)(void), int64_t (*wall)(void));

#endif
