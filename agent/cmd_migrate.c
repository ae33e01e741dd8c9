/*
 * cmd_migrate.c - `logferry migrate filebeat -c filebeat.yml [--registry DIR] [-o agent.conf]
 * [--data-dir DIR]`: the command line of the Filebeat conversion (see migrate.h).
 *
 * Writes agent.conf (stdout without -o), every setting not carried over both as a comment in
 * it and on stderr with its line, and, with --registry, DATA_DIR/registry.json. Exit status:
 * 0 everything carried over, 3 written but incomplete (see the notes), 1 nothing written
 * (unreadable or invalid YAML, conflicting options), 2 usage. Single-threaded; runs instead
 * of the agent.
 */
#include "agent/cmd.h"
#include "agent/migrate.h"

#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "Usage: logferry migrate filebeat -c filebeat.yml [--registry DIR] [-o agent.conf]"
               " [--data-dir DIR]\n"
               "  --registry DIR   Filebeat's data/registry/filebeat: carry its offsets over\n"
               "  --data-dir DIR   logferry's data_dir (default /var/lib/logferry)\n"
               "Exit status: 0 complete, 3 written with settings not carried over, 1 error.\n");
}

/* Notes quote filebeat.yml's text: keep them on one line. */
static void clean_line(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void print_note(FILE *f, const struct migrate *m, const struct mig_note *n,
                       const char *prefix)
{
    static const char *const kind[] = {"note", "not carried over", "error"};
    fputs(prefix, f);
    if (n->line > 0)
        fprintf(f, "%s:%d: ", m->yml_path, n->line);
    fprintf(f, "%s: ", kind[n->kind]);
    clean_line(f, n->msg);
    fputc('\n', f);
}

static int write_conf(struct migrate *m, FILE *f, const char *data_dir)
{
    fprintf(f, "# agent.conf converted from %s by `logferry migrate filebeat`.\n", m->yml_path);
    int drops = mig_drops(m);
    if (drops)
        fprintf(f, "# INCOMPLETE: %d setting%s could not be carried over (listed below).\n", drops,
                drops == 1 ? "" : "s");
    else
        fprintf(f, "# Every setting was carried over.\n");
    for (int i = 0; i < m->nnotes; i++)
        print_note(f, m, &m->notes[i], "# ");
    fprintf(f, "\n[agent]\ndata_dir = %s\n", data_dir);
    fwrite(m->agent.p ? m->agent.p : "", 1, m->agent.len, f);
    fwrite(m->inputs.p ? m->inputs.p : "", 1, m->inputs.len, f);
    fwrite(m->outputs.p ? m->outputs.p : "", 1, m->outputs.len, f);
    return ferror(f) ? -1 : 0;
}

/* Notes in the order of filebeat.yml's lines (notes from other files, line 0, last). */
static int note_cmp(const void *a, const void *b)
{
    const struct mig_note *x = a, *y = b;
    int lx = x->line ? x->line : 1 << 30, ly = y->line ? y->line : 1 << 30;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int cmd_migrate(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "filebeat") != 0) {
        fprintf(stderr, "logferry migrate: the only source is 'filebeat'\n");
        usage(stderr);
        return 2;
    }
    const char *yml = NULL, *out = NULL, *reg = NULL, *data_dir = "/var/lib/logferry";
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"output", required_argument, 0, 'o'},
        {"registry", required_argument, 0, 'r'}, {"data-dir", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': yml = optarg; break;
        case 'o': out = optarg; break;
        case 'r': reg = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!yml || optind < argc) {
        usage(stderr);
        return 2;
    }
    struct migrate m = {.yml_path = yml};
    buf_init(&m.agent, 1 << 20);
    buf_init(&m.inputs, 16 << 20);
    buf_init(&m.outputs, 1 << 20);
    char err[1024];
    size_t len;
    char *text = mig_read_file(yml, &len, err, sizeof err);
    if (!text) {
        fprintf(stderr, "logferry migrate: %s\n", err);
        return 1;
    }
    m.root = my_parse(text, len, err, sizeof err);
    free(text);
    if (!m.root) {
        fprintf(stderr, "%s:%s\n", yml, err);
        return 1;
    }
    char *dup = strdup(yml);
    m.config_dir = dup ? strdup(dirname(dup)) : NULL;
    free(dup);
    int rc = 1;
    if (!m.config_dir || mig_inputs(&m) != 0 || mig_outputs(&m) != 0) {
        fprintf(stderr, "logferry migrate: out of memory\n");
        goto done;
    }
    mig_sweep(&m);
    for (int i = 0; i < m.nnotes; i++)
        m.notes[i].seq = i;
    if (m.nnotes)
        qsort(m.notes, (size_t)m.nnotes, sizeof *m.notes, note_cmp);
    for (int i = 0; i < m.nnotes; i++)
        print_note(stderr, &m, &m.notes[i], "");
    if (mig_errors(&m)) {
        fprintf(stderr, "%s: %d error%s: nothing written\n", yml, mig_errors(&m),
                mig_errors(&m) == 1 ? "" : "s");
        goto done;
    }
    /* The registry first: when it cannot be converted, nothing is written at all. */
    char regfile[4200] = "";
    if (reg) {
        int n = mig_registry(&m, reg, data_dir, stderr, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "logferry migrate: registry: %s (nothing written)\n", err);
            goto done;
        }
        snprintf(regfile, sizeof regfile, "%s/registry.json", data_dir);
        fprintf(stderr, "registry: %d file%s resume where Filebeat stopped (%s)\n", n,
                n == 1 ? "" : "s", regfile);
    }
    int bad;
    if (out) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", out);
        FILE *f = fopen(tmp, "w");
        bad = !f;
        if (f) {
            bad = write_conf(&m, f, data_dir) != 0;
            bad |= fclose(f) != 0;
        }
        if (!bad)
            bad = rename(tmp, out) != 0;
        if (bad) {
            fprintf(stderr, "logferry migrate: cannot write %s: %m\n", out);
            unlink(tmp);
        }
    } else {
        bad = write_conf(&m, stdout, data_dir) != 0 || fflush(stdout) != 0;
        if (bad)
            fprintf(stderr, "logferry migrate: cannot write agent.conf to stdout: %m\n");
    }
    if (bad) {
        /* the registry we just created belongs to a configuration that was not written */
        if (regfile[0] && unlink(regfile) == 0)
            fprintf(stderr, "logferry migrate: removed %s again\n", regfile);
        goto done;
    }
    int drops = mig_drops(&m);
    fprintf(stderr, "%s: %s\n", yml, drops ? "converted; some settings were not carried over "
                                             "(exit status 3)" : "converted completely");
    rc = drops ? 3 : 0;
done:
    mig_free(&m);
    return rc;
}
