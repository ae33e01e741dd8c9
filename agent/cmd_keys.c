/*
 * cmd_keys.c - `logferry keys`: every key of agent.conf with its type, default and help,
 * printed from the components' config tables (Fluent Bit prints its config map the same
 * way), so the reference cannot drift from the code.
 *
 * Sections, in this order: [agent] and [input NAME] (agent_conf.c, then parsers/lineproc.c
 * for the input's parsing keys), [parser NAME] (parsers/regex.c), then one [output TYPE]
 * per row of outputs/outputs.c (its own table, then the keys every output takes). Keys
 * keep their table's order. Three renderings: text for people, Markdown tables for
 * README.md and roff for packaging/logferry.8 (both inserted by scripts/gen-docs), and
 * `--check`, which refuses a key without help or with a default its type rejects.
 *
 * Main thread only, before or without any configuration: it reads static tables, no file.
 */
#include "agent/cmd_keys.h"
#include "agent/agent.h"
#include "outputs/output.h"
#include "parsers/lineproc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_MAX_SECTIONS 32
#define KEYS_MAX_TABLES 3

struct keys_section {
    const char *id;    /* what `logferry keys SECTION` takes */
    char title[64];    /* "[output kafka]" */
    const struct conf_key *t[KEYS_MAX_TABLES + 1]; /* NULL terminated */
    const char *same_as; /* title of an earlier section with the same tables (webhook) */
};

static int keys_sections(struct keys_section *s, int max)
{
    int n = 0;
    s[n] = (struct keys_section){.id = "agent", .t = {agent_conf_agent_keys()}};
    snprintf(s[n++].title, sizeof s->title, "[agent]");
    s[n] = (struct keys_section){.id = "input",
                                 .t = {agent_conf_input_keys(), lineproc_keys()}};
    snprintf(s[n++].title, sizeof s->title, "[input NAME]");
    s[n] = (struct keys_section){.id = "parser", .t = {parsers_keys()}};
    snprintf(s[n++].title, sizeof s->title, "[parser NAME]");
    for (int i = 0; output_types[i] && n < max; i++) {
        const struct output_desc *d = output_types[i];
        s[n] = (struct keys_section){.id = d->type};
        int k = 0;
        if (d->conf_table)
            s[n].t[k++] = d->conf_table;
        s[n].t[k++] = agent_conf_output_keys();
        s[n].t[k] = output_common_keys; /* spool, spool_full: every output type */
        snprintf(s[n].title, sizeof s->title, "[output %s]", d->type);
        for (int j = 3; j < n; j++)
            if (d->conf_table && s[j].t[0] == d->conf_table) {
                s[n].same_as = s[j].title;
                break;
            }
        n++;
    }
    return n;
}

static const char *type_name(const struct conf_key *k)
{
    if (k->choices)
        return k->choices;
    switch (k->type) {
    case CT_STR: return "string";
    case CT_INT: return "integer";
    case CT_SIZE: return "size";
    case CT_DURATION: return "duration";
    case CT_BOOL: return "bool";
    case CT_LIST: return "list";
    case CT_PREFIX: return "prefix";
    }
    return NULL;
}

static int in_choices(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    for (const char *p = choices; p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == vl && strncmp(p, v, l) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static const char *bad_default(const struct conf_key *k)
{
    if (!k->def)
        return NULL;
    uint64_t sz;
    long ms;
    int b;
    char *end;
    switch (k->type) {
    case CT_INT:
        strtol(k->def, &end, 10);
        return (*k->def && !*end) ? NULL : "is not an integer";
    case CT_SIZE: return conf_parse_size(k->def, &sz) ? "is not a size" : NULL;
    case CT_DURATION: return conf_parse_duration(k->def, &ms) ? "is not a duration" : NULL;
    case CT_BOOL: return conf_parse_bool(k->def, &b) ? "is not a bool" : NULL;
    case CT_STR:
        return k->choices && *k->def && !in_choices(k->choices, k->def)
                   ? "is not one of its choices" : NULL;
    case CT_LIST: return NULL;
    case CT_PREFIX: return "is given to a prefix key, which takes none";
    }
    return "has an unknown type";
}

int keys_check_table(const char *what, const struct conf_key *table,
                     const struct conf_key *const *seen, FILE *err)
{
    int n = 0;
    if (!table)
        return 0;
    for (const struct conf_key *k = table; k->name; k++) {
        const char *why;
        if (!*k->name) {
            fprintf(err, "%s: a key has an empty name\n", what);
            n++;
            continue;
        }
        if (!type_name(k)) {
            fprintf(err, "%s: %s has an unknown type %d\n", what, k->name, (int)k->type);
            n++;
        }
        if (!k->help || !*k->help) {
            fprintf(err, "%s: %s has no help text (fill the table row's help field)\n", what,
                    k->name);
            n++;
        }
        if ((why = bad_default(k))) {
            fprintf(err, "%s: %s: the default '%s' %s\n", what, k->name, k->def, why);
            n++;
        }
        if (k->type == CT_PREFIX && k->name[strlen(k->name) - 1] != '.') {
            fprintf(err, "%s: %s: a prefix key must end with '.'\n", what, k->name);
            n++;
        }
        int twice = 0;
        for (const struct conf_key *o = table; o < k; o++)
            twice |= strcmp(o->name, k->name) == 0;
        for (int i = 0; seen && seen[i]; i++)
            for (const struct conf_key *o = seen[i]; o->name; o++)
                twice |= strcmp(o->name, k->name) == 0;
        if (twice) {
            fprintf(err, "%s: %s is declared twice\n", what, k->name);
            n++;
        }
    }
    return n;
}

/* Calls fn for every key of the section, in order, with its shown name (kafka.* for the
 * prefix "kafka.") and its default in words when it has no value (none, empty). */
typedef void (*key_fn)(FILE *f, const struct conf_key *k, const char *name, const char *nodef);

static void each_key(FILE *f, const struct keys_section *s, key_fn fn)
{
    for (int i = 0; s->t[i]; i++)
        for (const struct conf_key *k = s->t[i]; k->name; k++) {
            char name[128];
            snprintf(name, sizeof name, "%s%s", k->name, k->type == CT_PREFIX ? "*" : "");
            fn(f, k, name, !k->def ? "none" : !*k->def ? "empty" : NULL);
        }
}

/* ---- text ---- */

static void wrap(FILE *f, const char *s, int indent, int width)
{
    int col = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t w = strcspn(s, " ");
        if (!w)
            break;
        if (col && col + 1 + (int)w > width) {
            fputc('\n', f);
            col = 0;
        }
        if (!col)
            col = fprintf(f, "%*s", indent, "");
        else
            col += fprintf(f, " ");
        col += fprintf(f, "%.*s", (int)w, s);
        s += w;
    }
    if (col)
        fputc('\n', f);
}

static void text_key(FILE *f, const struct conf_key *k, const char *name, const char *nodef)
{
    fprintf(f, "  %-22s %s, default %s\n", name, type_name(k), nodef ? nodef : k->def);
    wrap(f, k->help ? k->help : "", 6, 92);
}

static void print_text(FILE *f, const struct keys_section *s)
{
    fprintf(f, "%s\n", s->title);
    if (s->same_as)
        fprintf(f, "  the same keys as %s\n", s->same_as);
    else
        each_key(f, s, text_key);
    fputc('\n', f);
}

/* ---- Markdown ---- */

void keys_md_text(FILE *f, const char *s)
{
    int code = 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (c == '`') {
            /* a backtick without its closing one is text, not a code span */
            if (code || strchr(p + 1, '`'))
                code = !code;
            else {
                fputs("\\`", f);
                continue;
            }
            fputc(c, f);
        } else if (c == '|') {
            fputs("\\|", f); /* the cell's end, even inside a code span (GFM) */
        } else if (code) {
            fputc(c, f);
        } else if (c == '<') {
            fputs("&lt;", f);
        } else if (c == '>') {
            fputs("&gt;", f);
        } else if (c == '&') {
            fputs("&amp;", f);
        } else if (c == '*' || c == '[' || c == ']' || c == '\\' ||
                   (c == '_' && (p == s || p[-1] == ' ' || p[-1] == '('))) {
            fputc('\\', f);
            fputc(c, f);
        } else if (c == '\n' || c == '\r') {
            fputc(' ', f);
        } else {
            fputc(c, f);
        }
    }
}

static void md_code(FILE *f, const char *s)
{
    fputc('`', f);
    for (const char *p = s; *p; p++) {
        if (*p == '|')
            fputs("\\|", f);
        else if (*p != '`' && *p != '\n')
            fputc(*p, f);
    }
    fputc('`', f);
}

static void md_key(FILE *f, const struct conf_key *k, const char *name, const char *nodef)
{
    fputs("| ", f);
    md_code(f, name);
    fputs(" | ", f);
    if (k->choices)
        md_code(f, k->choices);
    else
        fputs(type_name(k), f);
    fputs(" | ", f);
    if (nodef)
        fputs(nodef, f);
    else
        md_code(f, k->def);
    fputs(" | ", f);
    keys_md_text(f, k->help ? k->help : "");
    fputs(" |\n", f);
}

static void print_markdown(FILE *f, const struct keys_section *s)
{
    if (s->same_as) {
        fprintf(f, "The same keys as `%s`.\n", s->same_as);
        return;
    }
    fprintf(f, "| key | type | default | meaning |\n|---|---|---|---|\n");
    each_key(f, s, md_key);
}

/* ---- roff ---- */

void keys_roff_text(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (const char *p = s; *p; p++) {
        if (*p == '\\')
            fputs("\\e", f);
        else if (*p == '-')
            fputs("\\-", f);
        else if (*p == '\n')
            fputc(' ', f);
        else
            fputc(*p, f);
    }
}

static void man_key(FILE *f, const struct conf_key *k, const char *name, const char *nodef)
{
    fputs(".TP\n\\fB", f);
    keys_roff_text(f, name);
    fputs("\\fR (", f);
    keys_roff_text(f, type_name(k));
    fputs(", default ", f);
    if (nodef) {
        fputs(nodef, f);
    } else {
        fputs("\\fB", f);
        keys_roff_text(f, k->def);
        fputs("\\fR", f);
    }
    fputs(")\n", f);
    keys_roff_text(f, k->help ? k->help : "");
    fputc('\n', f);
}

static void print_man(FILE *f, const struct keys_section *s)
{
    fputs(".SS \"", f);
    keys_roff_text(f, s->title);
    fputs("\"\n", f);
    if (s->same_as) {
        fputs("The same keys as\n.BR \"", f);
        keys_roff_text(f, s->same_as);
        fputs("\" .\n", f);
        return;
    }
    each_key(f, s, man_key);
}

/* ---- the command ---- */

static void keys_usage(FILE *f)
{
    fprintf(f, "Usage: logferry keys [--markdown | --man | --check] [SECTION]\n"
               "  SECTION: agent, input, parser, output, or an output type");
    for (int i = 0; output_types[i]; i++)
        fprintf(f, "%s%s", i ? ", " : " (", output_types[i]->type);
    fprintf(f, ")\n  --markdown  the README's tables   --man  the man page's section\n"
               "  --check     fail when a key lacks help or has a default its type rejects\n");
}

static int wanted(const struct keys_section *s, int idx, const char *sel)
{
    if (!sel)
        return 1;
    if (strcmp(sel, "output") == 0)
        return idx >= 3;
    if (strncmp(sel, "output ", 7) == 0)
        return idx >= 3 && strcmp(sel + 7, s->id) == 0;
    return strcmp(sel, s->id) == 0;
}

int cmd_keys(int argc, char **argv)
{
    enum { TEXT, MARKDOWN, MAN, CHECK } mode = TEXT;
    char sel[80] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--markdown") == 0)
            mode = MARKDOWN;
        else if (strcmp(a, "--man") == 0)
            mode = MAN;
        else if (strcmp(a, "--check") == 0)
            mode = CHECK;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            keys_usage(stdout);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "logferry keys: unknown option '%s'\n", a);
            keys_usage(stderr);
            return 2;
        } else {
            size_t l = strlen(sel);
            if (snprintf(sel + l, sizeof sel - l, "%s%s", l ? " " : "", a) >=
                (int)(sizeof sel - l)) {
                fprintf(stderr, "logferry keys: section name too long\n");
                return 2;
            }
        }
    }
    struct keys_section s[KEYS_MAX_SECTIONS];
    int n = keys_sections(s, KEYS_MAX_SECTIONS);
    int found = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        if (!wanted(&s[i], i, *sel ? sel : NULL))
            continue;
        if (mode == MARKDOWN && found)
            fputc('\n', stdout);
        if (mode == MARKDOWN && (!*sel || strcmp(sel, "output") == 0))
            printf("### `%s`\n\n", s[i].title); /* several sections: say which */
        found++;
        if (mode == TEXT)
            print_text(stdout, &s[i]);
        else if (mode == MARKDOWN)
            print_markdown(stdout, &s[i]);
        else if (mode == MAN)
            print_man(stdout, &s[i]);
        else
            for (int t = 0; s[i].t[t]; t++) {
                const struct conf_key *const *seen = s[i].t;
                /* the section's earlier tables: a name in two of them is a conflict */
                const struct conf_key *before[KEYS_MAX_TABLES + 1] = {0};
                for (int j = 0; j < t; j++)
                    before[j] = seen[j];
                bad += keys_check_table(s[i].title, s[i].t[t], before, stderr);
            }
    }
    if (!found) {
        fprintf(stderr, "logferry keys: no section '%s'\n", sel);
        keys_usage(stderr);
        return 2;
    }
    if (mode == CHECK) {
        if (bad)
            fprintf(stderr, "logferry keys: %d problem%s in the config tables\n", bad,
                    bad == 1 ? "" : "s");
        else
            printf("every key has a type, a valid default and help text\n");
    }
    return bad ? 1 : 0;
}
