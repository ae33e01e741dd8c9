/*
 * torture_writer.c - the application side of the torture suite: appends numbered lines to a
 * log at a steady rate while a second thread rotates the log, the way logrotate does.
 *
 *   torture_writer -f PATH [-r LINES_PER_S] (-n COUNT | -d MS) [-s FIRST] [-t TAG]
 *                  [-R none|rename|copytruncate] [-i ROTATE_MS] [-p PAD] [-x SPLIT_EVERY]
 *
 * Lines are "TAG N payload...\n", N counting up from FIRST (default 1), so
 * tests/integration/lib.sh seq_check can count them at the other end. Lines are written in
 * batches every millisecond with O_APPEND; every SPLIT_EVERY-th batch (default 50) ends in
 * the first half of a line whose rest follows in the next write, so the reader sees partial
 * lines.
 *
 * Rotation (thread "rotator", every ROTATE_MS):
 *   rename:       rename(PATH, PATH.K) with K = 1, 2, ... (never deleted, never reused); the
 *                 writer notices the new generation and reopens PATH (O_CREAT), so for a
 *                 moment it keeps writing into PATH.K, as a real application does until it
 *                 is told to reopen.
 *   copytruncate: copies PATH to PATH.K, then truncates PATH to 0 while the writer keeps
 *                 appending through its unchanged descriptor. Lines written between the end of
 *                 the copy and the truncation exist nowhere afterwards: that is logrotate's
 *                 copytruncate window, and the test measures it from the files left on disk.
 *
 * On exit it prints "written=N last=M rotations=R" to stdout. Two threads: main (writer) and
 * rotator; they share only atomics.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum rot_mode { ROT_NONE, ROT_RENAME, ROT_COPYTRUNCATE };

static const char *tw_path;
static enum rot_mode tw_mode = ROT_NONE;
static long tw_rotate_ms = 200;
static atomic_int tw_stop;
static atomic_int tw_generation; /* bumped after each rename */
static atomic_long tw_rotations;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY);
    if (in < 0)
        return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, sizeof buf)) > 0)
        if (write_all(out, buf, (size_t)r) != 0) {
            rc = -1;
            break;
        }
    if (r < 0)
        rc = -1;
    close(in);
    close(out);
    return rc;
}

static void *rotator(void *arg)
{
    (void)arg;
    long k = 0;
    char dst[4096];
    while (!atomic_load(&tw_stop)) {
        for (long slept = 0; slept < tw_rotate_ms && !atomic_load(&tw_stop); slept += 10)
            sleep_ms(10);
        if (atomic_load(&tw_stop))
            break;
        snprintf(dst, sizeof dst, "%s.%ld", tw_path, ++k);
        if (tw_mode == ROT_RENAME) {
            if (rename(tw_path, dst) != 0) {
                fprintf(stderr, "torture_writer: rename %s: %s\n", tw_path, strerror(errno));
                continue;
            }
            atomic_fetch_add(&tw_generation, 1);
        } else {
            if (copy_file(tw_path, dst) != 0 || truncate(tw_path, 0) != 0) {
                fprintf(stderr, "torture_writer: copytruncate %s: %s\n", tw_path, strerror(errno));
                continue;
            }
        }
        atomic_fetch_add(&tw_rotations, 1);
    }
    return NULL;
}

static int open_log(void)
{
    int fd = open(tw_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        fprintf(stderr, "torture_writer: open %s: %s\n", tw_path, strerror(errno));
    return fd;
}

int main(int argc, char **argv)
{
    long rate = 30000, count = -1, duration_ms = -1, first = 1, pad = 40, split_every = 50;
    const char *tag = "line";
    int c;
    while ((c = getopt(argc, argv, "f:r:n:d:s:t:R:i:p:x:")) != -1) {
        switch (c) {
        case 'f': tw_path = optarg; break;
        case 'r': rate = atol(optarg); break;
        case 'n': count = atol(optarg); break;
        case 'd': duration_ms = atol(optarg); break;
        case 's': first = atol(optarg); break;
        case 't': tag = optarg; break;
        case 'R':
            tw_mode = !strcmp(optarg, "rename")         ? ROT_RENAME
                      : !strcmp(optarg, "copytruncate") ? ROT_COPYTRUNCATE
                                                        : ROT_NONE;
            break;
        case 'i': tw_rotate_ms = atol(optarg); break;
        case 'p': pad = atol(optarg); break;
        case 'x': split_every = atol(optarg); break;
        default:
            fprintf(stderr, "usage: torture_writer -f PATH [-r RATE] (-n COUNT|-d MS) [-s FIRST] "
                            "[-t TAG] [-R none|rename|copytruncate] [-i ROTATE_MS] [-p PAD] "
                            "[-x SPLIT_EVERY]\n");
            return 2;
        }
    }
    if (!tw_path || (count < 0 && duration_ms < 0) || rate < 1 || tw_rotate_ms < 1 || pad < 0 ||
        pad > 4000) {
        fprintf(stderr, "torture_writer: need -f PATH and -n COUNT or -d MS (see the source)\n");
        return 2;
    }
    char padding[4001];
    memset(padding, 'x', (size_t)pad);
    padding[pad] = '\0';

    int fd = open_log();
    if (fd < 0)
        return 1;
    int gen = atomic_load(&tw_generation);
    pthread_t rot;
    int have_rot = 0;
    if (tw_mode != ROT_NONE) {
        if (pthread_create(&rot, NULL, rotator, NULL) != 0) {
            fprintf(stderr, "torture_writer: cannot start the rotator thread\n");
            close(fd);
            return 1;
        }
        have_rot = 1;
    }

    static char buf[1 << 20];
    size_t held = 0; /* bytes of a split line carried to the next batch */
    char held_buf[4200];
    long next = first, written = 0, batches = 0;
    int64_t t0 = now_ms();
    int rc = 0;
    for (;;) {
        int64_t el = now_ms() - t0;
        if (duration_ms >= 0 && el >= duration_ms)
            break;
        if (count >= 0 && written >= count)
            break;
        long due = (long)((el + 1) * rate / 1000) - written;
        if (count >= 0 && due > count - written)
            due = count - written;
        size_t len = 0;
        if (held) {
            memcpy(buf, held_buf, held);
            len = held;
            held = 0;
        }
        for (long i = 0; i < due && len + sizeof held_buf < sizeof buf; i++) {
            int n = snprintf(buf + len, sizeof buf - len, "%s %ld %s\n", tag, next, padding);
            len += (size_t)n;
            next++;
            written++;
        }
        if (len) {
            size_t out = len;
            batches++;
            if (split_every > 0 && batches % split_every == 0 && len > 8 && !(count >= 0 && written >= count)) {
                /* Hold back the second half of the last line. */
                size_t last = len - 1;
                while (last > 0 && buf[last - 1] != '\n')
                    last--;
                size_t half = last + (len - last) / 2;
                held = len - half;
                memcpy(held_buf, buf + half, held);
                out = half;
            }
            if (write_all(fd, buf, out) != 0) {
                fprintf(stderr, "torture_writer: write %s: %s\n", tw_path, strerror(errno));
                rc = 1;
                break;
            }
        }
        if (tw_mode == ROT_RENAME && atomic_load(&tw_generation) != gen && !held) {
            gen = atomic_load(&tw_generation);
            close(fd);
            fd = open_log();
            if (fd < 0) {
                rc = 1;
                break;
            }
        }
        sleep_ms(1);
    }
    if (held && rc == 0 && write_all(fd, held_buf, held) != 0)
        rc = 1;
    atomic_store(&tw_stop, 1);
    if (have_rot)
        pthread_join(rot, NULL);
    close(fd);
    printf("written=%ld last=%ld rotations=%ld\n", written, next - 1, atomic_load(&tw_rotations));
    return rc;
}
