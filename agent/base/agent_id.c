/*
 * agent_id.c - agent.id: a random UUID made on the first start and kept in
 * data_dir/agent.id, so that the id is stable per host across restarts and upgrades (as
 * Filebeat keeps its in data/meta.json). Runs on the main thread at start, before any other
 * thread reads events.
 *
 * The file is written as the registry is (temporary file, fsync, rename, fsync of the
 * directory): a crash leaves either no file or a whole one. A file that does not hold a UUID
 * (hand-edited, truncated) is replaced, and that is logged.
 */
#include "agent/base/agent_id.h"

#include "agent/base/event.h"
#include "agent/base/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static char agent_id[37];

static int valid_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static void make_uuid(char id[37])
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            break;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(id, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
}

int agent_id_load(const char *data_dir, char id[37], char *err, size_t errsz)
{
    char path[4200], tmp[4220];
    snprintf(path, sizeof path, "%s/agent.id", data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[64] = "";
        int ok = fgets(line, sizeof line, f) != NULL && strlen(line) >= 36 &&
                 valid_uuid(line) && (line[36] == '\n' || line[36] == '\0');
        fclose(f);
        if (ok) {
            memcpy(id, line, 36);
            id[36] = '\0';
            return 0;
        }
        LF_LOG(LF_WARN, "agent", "%s does not hold a UUID; making a new agent.id", path);
    }
    make_uuid(id);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    char line[38];
    memcpy(line, id, 36);
    line[36] = '\n';
    int ok = write(fd, line, 37) == 37 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

void agent_identity_init(const char *data_dir, const char *name)
{
    char err[4400];
    if (agent_id_load(data_dir, agent_id, err, sizeof err) != 0) {
        make_uuid(agent_id);
        LF_LOG(LF_ERROR, "agent", "%s; agent.id %s is for this run only", err, agent_id);
    }
    event_set_agent(agent_id, name);
}
