/*
 * status_alerts.c - the ring of recent alert texts shown on the status page (status_feed.h).
 * Written by the Slack output's thread, read by the HTTP thread; one mutex.
 */
#include "agent/base/status_feed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "agent/base/clock.h"

#define ALERT_RING 20

static pthread_mutex_t alerts_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *text;
    long long ms;
} ring[ALERT_RING];
static unsigned ring_next;

void lf_status_note_alert(const char *text)
{
    long long now = wall_ms();
    char *copy = strdup(text);
    if (!copy)
        return;
    pthread_mutex_lock(&alerts_mu);
    unsigned i = ring_next++ % ALERT_RING;
    free(ring[i].text);
    ring[i].text = copy;
    ring[i].ms = now;
    pthread_mutex_unlock(&alerts_mu);
}

json_t *lf_status_alerts(void)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&alerts_mu);
    unsigned n = ring_next < ALERT_RING ? ring_next : ALERT_RING;
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (ring_next - 1 - k) % ALERT_RING; /* newest first */
        json_array_append_new(arr, json_pack("{s:s, s:I}", "text", ring[i].text, "time_ms",
                                             (json_int_t)ring[i].ms));
    }
    pthread_mutex_unlock(&alerts_mu);
    return arr;
}
