/*
 * shutdown.c - the last phase of a stop (SIGTERM, SIGINT, or the drain before a SIGHUP
 * reload), after loop.c's drain has ended: every output thread flushes on its own thread,
 * in parallel, within what is left of the one deadline counted from the signal, and is then
 * destroyed. Meanwhile the tail thread (the only thread here) goes on doing what it does in
 * normal running: it collects the acks that flushing brings, saves the registry at
 * registry_flush, and reads the signalfd, so a second signal still ends the wait.
 *
 * The bound: the deadline, then STOP_GRACE_MS for threads told to give up to return from
 * what they were doing (every flush() checks env->giving_up at least every 100 ms), then
 * destroy() of the outputs that returned, which does not wait on the network (Slack aborts
 * its transfer; Kafka lets librdkafka release purged messages, at most 1 s). A thread that
 * has not returned by then is left behind (pipeline_stop_end). loop.c then stops the inotify
 * watcher (up to its 1 s poll) and writes the registry: docs/operations.md states the sum.
 */
#include "agent/agent.h"
#include "agent/base/log.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define STOP_GRACE_MS 500

void agent_stop_outputs(struct agent *a, int sfd, int64_t deadline, atomic_int *giving_up)
{
    pipeline_stop_begin(a, deadline);
    int64_t give_up_at = deadline;
    int64_t next_flush = mono_ms() + a->ac.registry_flush_ms;
    while (pipeline_stop_running(a) > 0) {
        int64_t now = mono_ms();
        if (now >= give_up_at && !atomic_load(giving_up))
            atomic_store(giving_up, 1);
        if (now >= give_up_at + STOP_GRACE_MS)
            break;
        int64_t wake = now >= give_up_at ? give_up_at + STOP_GRACE_MS : give_up_at;
        if (a->reg->dirty && next_flush < wake)
            wake = next_flush;
        int64_t jdue = reg_journal_tick(a->reg, now);
        if (jdue && jdue < wake)
            wake = jdue;
        struct pollfd pfd[2] = {{a->ack_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
        poll(pfd, 2, wake > now ? (int)(wake - now) : 0);
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGHUP || atomic_load(giving_up))
                continue; /* already stopping; already giving up */
            if (a->reloading) {
                LF_LOG(LF_INFO, "agent", "SIGTERM during the reload: stopping instead");
                a->reloading = 0;
                continue;
            }
            LF_LOG(LF_WARN, "agent", "second signal: exiting now (only acknowledged offsets "
                   "are committed)");
            atomic_store(giving_up, 1);
            give_up_at = mono_ms();
        }
        pipeline_collect(a);
        now = mono_ms();
        if (a->reg->dirty && (now >= next_flush || reg_journal_full(a->reg))) {
            agent_save_registry(a);
            next_flush = now + a->ac.registry_flush_ms;
        }
    }
    pipeline_stop_end(a);
    pipeline_collect(a);
}
