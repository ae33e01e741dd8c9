/*
 * mock_kafka.c - a Kafka-protocol broker for tests and benchmarks: librdkafka's own mock
 * cluster (rdkafka_mock.h) in a process of its own, on loopback.
 *
 *   mock_kafka [-b BROKERS] [-t TOPIC:PARTITIONS]... [-o BOOTSTRAP_FILE] [-c CONTROL_FIFO]
 *
 * Prints the bootstrap servers ("127.0.0.1:PORT,...") on stdout (and into BOOTSTRAP_FILE,
 * written atomically, when given), then reads one command per line from CONTROL_FIFO (opened
 * read-write so writers may come and go) or else from stdin:
 *   down ID|all              take broker(s) down (connections closed and refused)
 *   up ID|all                bring them back
 *   errors API CNT ERR...    the next CNT requests of API (produce, metadata, or a number)
 *                            fail with the given errors (names like NOT_LEADER_FOR_PARTITION
 *                            or numbers), in order
 *   topic NAME PARTITIONS    create a topic
 *   topic_error NAME ERR     make the topic's metadata report ERR (e.g. TOPIC_AUTHORIZATION_FAILED)
 *   rtt ID MS                add latency to a broker
 *   wm TOPIC FILE            write "PARTITION LOW HIGH" lines and "total N" (sum of high
 *                            watermarks: messages the brokers acknowledged) into FILE, atomically
 *   quit                     exit
 * Each command answers "ok ..." or "error ..." on stdout. The mock keeps only its newest few
 * MiB per partition, so benchmarks count with watermarks, not by consuming everything.
 * Single-threaded apart from the mock cluster's own thread inside librdkafka.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static rd_kafka_mock_cluster_t *mc;
static rd_kafka_t *client; /* asks the mock for watermarks over the protocol */
static int nbrokers = 1;
static const char *bootstraps;

static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end) {
        *out = (rd_kafka_resp_err_t)v;
        return 0;
    }
    const struct rd_kafka_err_desc *d;
    size_t n;
    rd_kafka_get_err_descs(&d, &n);
    for (size_t i = 0; i < n; i++)
        if (d[i].name && strcasecmp(d[i].name, s) == 0) {
            *out = d[i].code;
            return 0;
        }
    return -1;
}

static int parse_api(const char *s)
{
    if (!strcasecmp(s, "produce"))
        return 0;
    if (!strcasecmp(s, "metadata"))
        return 3;
    if (!strcasecmp(s, "initproducerid"))
        return 22;
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end) ? (int)v : -1;
}

static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fputs(text, f);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static rd_kafka_t *get_client(void)
{
    if (client)
        return client;
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", bootstraps, err, sizeof err) != 0 ||
        rd_kafka_conf_set(c, "reconnect.backoff.max.ms", "200", err, sizeof err) != 0) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    client = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!client)
        rd_kafka_conf_destroy(c);
    return client;
}

static void cmd_wm(const char *topic, const char *file)
{
    rd_kafka_t *rk = get_client();
    if (!rk) {
        printf("error cannot create a client\n");
        return;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
    if (e || md->topic_cnt < 1 || md->topics[0].err) {
        printf("error metadata for %s: %s\n", topic,
               rd_kafka_err2str(e ? e : md->topic_cnt ? md->topics[0].err : e));
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        return;
    }
    char out[4096];
    size_t len = 0;
    long long total = 0;
    int np = md->topics[0].partition_cnt;
    for (int p = 0; p < np; p++) {
        int64_t lo = 0, hi = 0;
        e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000);
        if (e) {
            printf("error watermarks of %s/%d: %s\n", topic, p, rd_kafka_err2str(e));
            rd_kafka_metadata_destroy(md);
            rd_kafka_topic_destroy(rkt);
            return;
        }
        total += hi;
        if (len < sizeof out - 64)
            len += (size_t)snprintf(out + len, sizeof out - len, "%d %lld %lld\n", p,
                                    (long long)lo, (long long)hi);
    }
    snprintf(out + len, sizeof out - len, "total %lld\n", total);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (write_atomic(file, out) != 0)
        printf("error cannot write %s: %s\n", file, strerror(errno));
    else
        printf("ok total %lld\n", total);
}

static void set_brokers(const char *which, int up)
{
    int from = 1, to = nbrokers;
    if (strcmp(which, "all") != 0)
        from = to = atoi(which);
    for (int id = from; id <= to; id++) {
        rd_kafka_resp_err_t e = up ? rd_kafka_mock_broker_set_up(mc, id)
                                   : rd_kafka_mock_broker_set_down(mc, id);
        if (e) {
            printf("error broker %d: %s\n", id, rd_kafka_err2str(e));
            return;
        }
    }
    printf("ok\n");
}

static void command(char *line)
{
    char *argv[64];
    int argc = 0;
    for (char *t = strtok(line, " \t\r\n"); t && argc < 64; t = strtok(NULL, " \t\r\n"))
        argv[argc++] = t;
    if (argc == 0)
        return;
    const char *c = argv[0];
    rd_kafka_resp_err_t e;
    if (!strcmp(c, "quit") || !strcmp(c, "exit")) {
        stop = 1;
        printf("ok\n");
    } else if ((!strcmp(c, "down") || !strcmp(c, "up")) && argc == 2) {
        set_brokers(argv[1], c[0] == 'u');
    } else if (!strcmp(c, "errors") && argc >= 4) {
        int api = parse_api(argv[1]);
        long cnt = atol(argv[2]);
        rd_kafka_resp_err_t errs[64];
        int nerr = 0;
        for (int i = 3; i < argc; i++)
            if (parse_err(argv[i], &errs[nerr++]) != 0) {
                printf("error unknown error code %s\n", argv[i]);
                fflush(stdout);
                return;
            }
        if (api < 0 || cnt <= 0) {
            printf("error usage: errors API CNT ERR...\n");
            fflush(stdout);
            return;
        }
        /* CNT requests, cycling through the given codes */
        rd_kafka_resp_err_t *all = calloc((size_t)cnt, sizeof *all);
        if (!all) {
            printf("error out of memory\n");
            fflush(stdout);
            return;
        }
        for (long i = 0; i < cnt; i++)
            all[i] = errs[i % nerr];
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)api, (size_t)cnt, all);
        free(all);
        printf("ok\n");
    } else if (!strcmp(c, "topic") && argc == 3) {
        e = rd_kafka_mock_topic_create(mc, argv[1], atoi(argv[2]), nbrokers < 3 ? nbrokers : 3);
        printf(e ? "error %s\n" : "ok\n", rd_kafka_err2str(e));
    } else if (!strcmp(c, "topic_error") && argc == 3) {
        if (parse_err(argv[2], &e) != 0) {
            printf("error unknown error code %s\n", argv[2]);
        } else {
            rd_kafka_mock_topic_set_error(mc, argv[1], e);
            printf("ok\n");
        }
    } else if (!strcmp(c, "rtt") && argc == 3) {
        e = rd_kafka_mock_broker_set_rtt(mc, atoi(argv[1]), atoi(argv[2]));
        printf(e ? "error %s\n" : "ok\n", rd_kafka_err2str(e));
    } else if (!strcmp(c, "wm") && argc == 3) {
        cmd_wm(argv[1], argv[2]);
    } else {
        printf("error unknown command %s\n", c);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *topics[64], *bootfile = NULL, *ctl = NULL;
    int ntopics = 0, opt;
    while ((opt = getopt(argc, argv, "b:t:o:c:")) != -1) {
        switch (opt) {
        case 'b': nbrokers = atoi(optarg); break;
        case 't': if (ntopics < 64) topics[ntopics++] = optarg; break;
        case 'o': bootfile = optarg; break;
        case 'c': ctl = optarg; break;
        default:
            fprintf(stderr, "usage: mock_kafka [-b BROKERS] [-t TOPIC:PARTITIONS]... "
                            "[-o BOOTSTRAP_FILE] [-c CONTROL_FIFO]\n");
            return 2;
        }
    }
    if (nbrokers < 1 || nbrokers > 16) {
        fprintf(stderr, "mock_kafka: -b must be 1..16\n");
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "mock_kafka: %s\n", err);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        fprintf(stderr, "mock_kafka: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s", topics[i]);
        char *colon = strrchr(name, ':');
        int parts = 1;
        if (colon) {
            *colon = '\0';
            parts = atoi(colon + 1);
        }
        rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(mc, name, parts, nbrokers < 3 ? nbrokers : 3);
        if (e) {
            fprintf(stderr, "mock_kafka: topic %s: %s\n", name, rd_kafka_err2str(e));
            return 1;
        }
    }
    bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    printf("%s\n", bootstraps);
    fflush(stdout);
    if (bootfile) {
        char line[1024];
        snprintf(line, sizeof line, "%s\n", bootstraps);
        if (write_atomic(bootfile, line) != 0) {
            fprintf(stderr, "mock_kafka: cannot write %s: %s\n", bootfile, strerror(errno));
            return 1;
        }
    }
    FILE *in = stdin;
    if (ctl) {
        int fd = open(ctl, O_RDWR | O_CLOEXEC);
        if (fd < 0 || !(in = fdopen(fd, "r"))) {
            fprintf(stderr, "mock_kafka: cannot open %s: %s\n", ctl, strerror(errno));
            return 1;
        }
    }
    char line[4096];
    while (!stop) {
        errno = 0;
        if (!fgets(line, sizeof line, in)) {
            if (errno == EINTR && !stop) {
                clearerr(in);
                continue;
            }
            /* stdin closed: keep serving until a signal */
            while (!stop)
                pause();
            break;
        }
        command(line);
    }
    if (client)
        rd_kafka_destroy(client);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
