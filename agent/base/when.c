/*
 * when.c - the routing condition language (`when = ...` on every output): a hand-written
 * lexer and recursive-descent parser that compile an expression into a small tree, and the
 * evaluator that walks it over a built event.
 *
 *   expr    := and ( "or" and )*
 *   and     := unary ( "and" unary )*
 *   unary   := "not" unary | primary
 *   primary := "(" expr ")" | FIELD [ OP literal ]
 *   OP      := == != < <= > >= =~
 *   literal := NUMBER | STRING | true | false
 *
 * A bare FIELD is a presence test. Strings are double-quoted with \" \\ \n \t \r escapes (any
 * other backslash pair is kept as written, so regexes read naturally: "^/api/\d+"). Numbers
 * are integers or decimals, optionally negative. A field that is absent makes a comparison
 * false; a string field compared with a number is read as a number (a status captured as
 * text still compares with >= 500) and is false when it is not one; a number compared with
 * a string or a regex is compared in its decimal form.
 *
 * Threads: when_compile()/when_free() run at configuration time on one thread. A compiled
 * condition is immutable afterwards; when_eval() may run on several output threads at once.
 * Regexes are compiled once (PCRE2, JIT when available) with a match limit against hostile
 * backtracking; each thread has its own pcre2_match_data (a pthread key frees it when the
 * thread exits).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "agent/base/when.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHEN_MAX_NODES 1024
#define WHEN_MAX_DEPTH 64
#define WHEN_MATCH_LIMIT 1000000u

enum node_kind { N_OR, N_AND, N_NOT, N_PRESENT, N_CMP };
enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_RE };
enum lit_kind { L_INT, L_FLOAT, L_STR, L_BOOL };

struct node {
    enum node_kind kind;
    enum cmp_op op;
    enum lit_kind lit;
    int a, b;         /* children (indexes) for or/and/not */
    char *field;      /* presence and comparisons */
    char *s;          /* string literal (may hold NULs: slen) */
    size_t slen;
    int64_t i;
    double f;
    pcre2_code *re;
};

struct when {
    struct node *n;
    int nn;
    int root;
    pcre2_match_context *mctx;
};

/* ---- lexer ---- */

enum tok_kind { T_END, T_LP, T_RP, T_AND, T_OR, T_NOT, T_TRUE, T_FALSE, T_FIELD, T_NUM,
                T_STR, T_OP, T_BAD };

struct tok {
    enum tok_kind kind;
    enum cmp_op op;
    size_t pos, len; /* in the source */
};

struct parser {
    const char *src;
    size_t pos;
    struct tok t; /* current token */
    struct when *w;
    char *err;
    size_t errsz;
    int errpos;
    int depth;
};

static int is_field_start(int c) { return isalpha(c) || c == '_' || c == '@'; }
static int is_field_char(int c)
{
    return isalnum(c) || c == '_' || c == '@' || c == '.' || c == '-';
}

static void lex(struct parser *p)
{
    const char *s = p->src;
    size_t i = p->pos;
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
        i++;
    struct tok t = {T_END, OP_EQ, i, 0};
    unsigned char c = (unsigned char)s[i];
    if (c == '\0') {
        /* end */
    } else if (c == '(' || c == ')') {
        t.kind = c == '(' ? T_LP : T_RP;
        t.len = 1;
    } else if (c == '"') {
        size_t j = i + 1;
        while (s[j] && s[j] != '"') {
            if (s[j] == '\\' && s[j + 1])
                j++;
            j++;
        }
        t.kind = s[j] == '"' ? T_STR : T_BAD;
        t.len = s[j] == '"' ? j + 1 - i : j - i;
    } else if (isdigit(c) || ((c == '-' || c == '.') && (isdigit((unsigned char)s[i + 1]) ||
                                                          s[i + 1] == '.'))) {
        size_t j = i + 1;
        while (isalnum((unsigned char)s[j]) || s[j] == '.' ||
               ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E')))
            j++;
        t.kind = T_NUM;
        t.len = j - i;
    } else if (is_field_start(c)) {
        size_t j = i + 1;
        while (is_field_char((unsigned char)s[j]))
            j++;
        t.kind = T_FIELD;
        t.len = j - i;
        static const struct { const char *w; enum tok_kind k; } kw[] = {
            {"and", T_AND}, {"or", T_OR}, {"not", T_NOT}, {"true", T_TRUE}, {"false", T_FALSE}};
        for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
            if (strlen(kw[k].w) == t.len && memcmp(kw[k].w, s + i, t.len) == 0)
                t.kind = kw[k].k;
    } else {
        static const struct { const char *s; enum cmp_op op; } ops[] = {
            {"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"=~", OP_RE},
            {"<", OP_LT}, {">", OP_GT}};
        t.kind = T_BAD;
        t.len = 1;
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
            if (strncmp(s + i, ops[k].s, strlen(ops[k].s)) == 0) {
                t.kind = T_OP;
                t.op = ops[k].op;
                t.len = strlen(ops[k].s);
                break;
            }
    }
    p->t = t;
    p->pos = t.pos + t.len;
}

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->errpos == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errsz, fmt, ap);
        va_end(ap);
        p->errpos = (int)pos + 1;
    }
    return -1;
}

static const char *tok_desc(const struct parser *p, char *out, size_t outsz)
{
    if (p->t.kind == T_END)
        return "the end";
    snprintf(out, outsz, "'%.*s'", p->t.len > 40 ? 40 : (int)p->t.len, p->src + p->t.pos);
    return out;
}

static int new_node(struct parser *p, enum node_kind k)
{
    struct when *w = p->w;
    if (w->nn >= WHEN_MAX_NODES)
        return fail(p, p->t.pos, "%s", "condition is too long");
    if (w->nn % 16 == 0) {
        struct node *nn = realloc(w->n, (size_t)(w->nn + 16) * sizeof *nn);
        if (!nn)
            return fail(p, p->t.pos, "%s", "out of memory");
        w->n = nn;
    }
    memset(&w->n[w->nn], 0, sizeof w->n[0]);
    w->n[w->nn].kind = k;
    return w->nn++;
}

/* Decodes the string token at t into a malloc'd buffer. */
static int decode_string(struct parser *p, struct node *nd)
{
    const char *s = p->src + p->t.pos + 1;
    size_t n = p->t.len - 2;
    char *out = malloc(n + 1);
    if (!out)
        return fail(p, p->t.pos, "%s", "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            out[o++] = s[i];
            continue;
        }
        char e = s[++i];
        switch (e) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case 'r': out[o++] = '\r'; break;
        default: out[o++] = '\\'; out[o++] = e; break;
        }
    }
    out[o] = '\0';
    nd->s = out;
    nd->slen = o;
    return 0;
}

static int parse_number(struct parser *p, struct node *nd)
{
    char buf[64];
    if (p->t.len >= sizeof buf)
        return fail(p, p->t.pos, "%s", "number is too long");
    memcpy(buf, p->src + p->t.pos, p->t.len);
    buf[p->t.len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end == '\0' && errno == 0) {
        nd->lit = L_INT;
        nd->i = v;
        nd->f = (double)v;
        return 0;
    }
    errno = 0;
    double d = strtod(buf, &end);
    if (*end != '\0' || errno != 0 || !isfinite(d))
        return fail(p, p->t.pos, "'%s' is not a number", buf);
    nd->lit = L_FLOAT;
    nd->f = d;
    return 0;
}

static int parse_or(struct parser *p);

static int parse_primary(struct parser *p)
{
    char d[64];
    if (p->t.kind == T_LP) {
        size_t open = p->t.pos;
        if (++p->depth > WHEN_MAX_DEPTH)
            return fail(p, open, "%s", "parentheses nested too deeply");
        lex(p);
        int e = parse_or(p);
        if (e < 0)
            return -1;
        if (p->t.kind != T_RP)
            return fail(p, p->t.pos, "expected ')' to close the '(' here, found %s",
                        tok_desc(p, d, sizeof d));
        p->depth--;
        lex(p);
        return e;
    }
    if (p->t.kind == T_BAD && p->src[p->t.pos] == '"')
        return fail(p, p->t.pos, "%s", "unterminated string (missing closing \")");
    if (p->t.kind != T_FIELD)
        return fail(p, p->t.pos, "expected a field name, 'not' or '(', found %s",
                    tok_desc(p, d, sizeof d));
    size_t fpos = p->t.pos, flen = p->t.len;
    for (size_t i = fpos; i < fpos + flen; i++)
        if (p->src[i] == '.' && (i + 1 == fpos + flen || p->src[i + 1] == '.'))
            return fail(p, i, "%s", "a field name cannot end in '.' or hold '..'");
    int k = new_node(p, N_PRESENT);
    if (k < 0)
        return -1;
    char *field = strndup(p->src + fpos, flen);
    if (!field)
        return fail(p, fpos, "%s", "out of memory");
    p->w->n[k].field = field;
    lex(p);
    if (p->t.kind != T_OP)
        return k;
    struct node *nd = &p->w->n[k];
    nd->kind = N_CMP;
    nd->op = p->t.op;
    size_t oppos = p->t.pos;
    char opname[4];
    snprintf(opname, sizeof opname, "%.*s", (int)p->t.len, p->src + oppos);
    lex(p);
    switch (p->t.kind) {
    case T_NUM:
        if (nd->op == OP_RE)
            return fail(p, p->t.pos, "%s", "'=~' needs a regex in a \"string\"");
        if (parse_number(p, nd) != 0)
            return -1;
        break;
    case T_STR:
        if (decode_string(p, nd) != 0)
            return -1;
        nd->lit = L_STR;
        if (nd->op == OP_RE) {
            int ec;
            PCRE2_SIZE eo;
            nd->re = pcre2_compile((PCRE2_SPTR)nd->s, nd->slen, 0, &ec, &eo, NULL);
            if (!nd->re) {
                char msg[160];
                pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
                /* column of the offending byte inside the literal (escapes aside) */
                size_t col = p->t.pos + 1 + (eo < p->t.len - 2 ? eo : p->t.len - 2);
                return fail(p, col, "invalid regex: %s", msg);
            }
            pcre2_jit_compile(nd->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
        }
        break;
    case T_TRUE:
    case T_FALSE:
        if (nd->op != OP_EQ && nd->op != OP_NE)
            return fail(p, oppos, "'%s' cannot compare booleans (use == or !=)", opname);
        nd->lit = L_BOOL;
        nd->i = p->t.kind == T_TRUE;
        break;
    case T_BAD:
        if (p->src[p->t.pos] == '"')
            return fail(p, p->t.pos, "%s", "unterminated string (missing closing \")");
        /* fall through */
    default:
        return fail(p, p->t.pos, "expected a number or a \"string\" after '%s'", opname);
    }
    lex(p);
    return k;
}

static int parse_unary(struct parser *p)
{
    if (p->t.kind != T_NOT)
        return parse_primary(p);
    size_t pos = p->t.pos;
    if (++p->depth > WHEN_MAX_DEPTH)
        return fail(p, pos, "%s", "'not' nested too deeply");
    lex(p);
    int a = parse_unary(p);
    p->depth--;
    if (a < 0)
        return -1;
    int k = new_node(p, N_NOT);
    if (k < 0)
        return -1;
    p->w->n[k].a = a;
    return k;
}

static int parse_and(struct parser *p)
{
    int l = parse_unary(p);
    while (l >= 0 && p->t.kind == T_AND) {
        lex(p);
        int r = parse_unary(p);
        if (r < 0)
            return -1;
        int k = new_node(p, N_AND);
        if (k < 0)
            return -1;
        p->w->n[k].a = l;
        p->w->n[k].b = r;
        l = k;
    }
    return l;
}

static int parse_or(struct parser *p)
{
    int l = parse_and(p);
    while (l >= 0 && p->t.kind == T_OR) {
        lex(p);
        int r = parse_and(p);
        if (r < 0)
            return -1;
        int k = new_node(p, N_OR);
        if (k < 0)
            return -1;
        p->w->n[k].a = l;
        p->w->n[k].b = r;
        l = k;
    }
    return l;
}

struct when *when_compile(const char *expr, char *err, size_t errsz, int *errpos)
{
    char dummy[8];
    int dpos;
    if (!err || errsz == 0) {
        err = dummy;
        errsz = sizeof dummy;
    }
    if (!errpos)
        errpos = &dpos;
    *errpos = 0;
    err[0] = '\0';
    struct when *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errsz, "out of memory");
        *errpos = 1;
        return NULL;
    }
    struct parser p = {.src = expr ? expr : "", .w = w, .err = err, .errsz = errsz};
    lex(&p);
    if (p.t.kind == T_END) {
        fail(&p, p.t.pos, "%s", "empty condition");
    } else {
        w->root = parse_or(&p);
        char d[64];
        if (w->root >= 0 && p.t.kind != T_END) {
            if (p.t.kind == T_BAD && p.src[p.t.pos] == '"')
                fail(&p, p.t.pos, "%s", "unterminated string (missing closing \")");
            else if (p.t.kind == T_BAD && p.src[p.t.pos] == '=')
                fail(&p, p.t.pos, "%s", "'=' is not an operator (compare with '==')");
            else if (p.t.kind == T_RP)
                fail(&p, p.t.pos, "%s", "')' without a matching '('");
            else
                fail(&p, p.t.pos, "expected 'and', 'or' or the end, found %s",
                     tok_desc(&p, d, sizeof d));
        }
    }
    if (p.errpos == 0) {
        w->mctx = pcre2_match_context_create(NULL);
        if (!w->mctx)
            fail(&p, 0, "%s", "out of memory");
        else
            pcre2_set_match_limit(w->mctx, WHEN_MATCH_LIMIT);
    }
    if (p.errpos != 0) {
        *errpos = p.errpos;
        when_free(w);
        return NULL;
    }
    return w;
}

void when_free(struct when *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->nn; i++) {
        free(w->n[i].field);
        free(w->n[i].s);
        if (w->n[i].re)
            pcre2_code_free(w->n[i].re);
    }
    free(w->n);
    if (w->mctx)
        pcre2_match_context_free(w->mctx);
    free(w);
}

/* ---- evaluation ---- */

static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_free(void *p) { pcre2_match_data_free(p); }
static void md_init(void) { pthread_key_create(&md_key, md_free); }

/* One match data per thread; one pair is enough since only "does it match" is asked. */
static pcre2_match_data *thread_md(void)
{
    pthread_once(&md_once, md_init);
    pcre2_match_data *md = pthread_getspecific(md_key);
    if (!md) {
        md = pcre2_match_data_create(1, NULL);
        if (md && pthread_setspecific(md_key, md) != 0) {
            pcre2_match_data_free(md);
            md = NULL;
        }
    }
    return md;
}

/* Text form of a field value (numbers in decimal). */
static const char *field_text(const struct field *f, char *tmp, size_t tmpsz, size_t *len)
{
    switch (f->type) {
    case FV_STR:
    case FV_JSON:
        *len = f->len;
        return f->v.s;
    case FV_INT:
        *len = (size_t)snprintf(tmp, tmpsz, "%" PRId64, f->v.i);
        return tmp;
    case FV_FLOAT:
        *len = (size_t)snprintf(tmp, tmpsz, "%.17g", f->v.f);
        return tmp;
    case FV_BOOL:
        *len = f->v.b ? 4 : 5;
        return f->v.b ? "true" : "false";
    }
    *len = 0;
    return "";
}

static int order_result(enum cmp_op op, int c)
{
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    case OP_GE: return c >= 0;
    case OP_RE: return 0;
    }
    return 0;
}

/* Reads a string field as a number: whole text must be one (spaces around allowed). */
static int str_number(const char *s, size_t n, int64_t *iv, double *dv, int *is_int)
{
    char buf[64];
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end == '\0' && errno == 0) {
        *iv = v;
        *dv = (double)v;
        *is_int = 1;
        return 0;
    }
    errno = 0;
    double d = strtod(buf, &end);
    if (*end != '\0' || errno != 0 || isnan(d))
        return -1;
    *dv = d;
    *is_int = 0;
    return 0;
}

static int cmp_num(const struct node *nd, const struct field *f)
{
    int64_t fi = 0;
    double fd = 0;
    int fint;
    switch (f->type) {
    case FV_INT: fi = f->v.i; fd = (double)fi; fint = 1; break;
    case FV_FLOAT: fd = f->v.f; fint = 0; break;
    case FV_BOOL: return 0;
    default:
        if (str_number(f->v.s, f->len, &fi, &fd, &fint) != 0)
            return 0;
    }
    if (!fint && isnan(fd))
        return 0;
    int c;
    if (fint && nd->lit == L_INT)
        c = fi < nd->i ? -1 : fi > nd->i;
    else
        c = fd < nd->f ? -1 : fd > nd->f;
    return order_result(nd->op, c);
}

static int cmp_str(const struct node *nd, const struct field *f)
{
    char tmp[40];
    size_t n;
    const char *s = field_text(f, tmp, sizeof tmp, &n);
    size_t m = n < nd->slen ? n : nd->slen;
    int c = m ? memcmp(s, nd->s, m) : 0;
    if (c == 0)
        c = n < nd->slen ? -1 : n > nd->slen;
    return order_result(nd->op, c < 0 ? -1 : c > 0);
}

static int match_re(const struct when *w, const struct node *nd, const struct field *f)
{
    char tmp[40];
    size_t n;
    const char *s = field_text(f, tmp, sizeof tmp, &n);
    pcre2_match_data *md = thread_md();
    if (!md)
        return 0;
    int rc = pcre2_match(nd->re, (PCRE2_SPTR)s, n, 0, 0, md, w->mctx);
    return rc >= 0;
}

static int eval_node(const struct when *w, int k, const struct event_batch *b,
                     const struct event *ev)
{
    const struct node *nd = &w->n[k];
    struct field f;
    switch (nd->kind) {
    case N_OR: return eval_node(w, nd->a, b, ev) || eval_node(w, nd->b, b, ev);
    case N_AND: return eval_node(w, nd->a, b, ev) && eval_node(w, nd->b, b, ev);
    case N_NOT: return !eval_node(w, nd->a, b, ev);
    case N_PRESENT: return event_get(b, ev, nd->field, &f);
    case N_CMP:
        if (!event_get(b, ev, nd->field, &f))
            return 0;
        if (nd->op == OP_RE)
            return match_re(w, nd, &f);
        switch (nd->lit) {
        case L_INT:
        case L_FLOAT: return cmp_num(nd, &f);
        case L_STR: return cmp_str(nd, &f);
        case L_BOOL: {
            int v;
            if (f.type == FV_BOOL)
                v = f.v.b;
            else if (f.type == FV_STR && f.len == 4 && memcmp(f.v.s, "true", 4) == 0)
                v = 1;
            else if (f.type == FV_STR && f.len == 5 && memcmp(f.v.s, "false", 5) == 0)
                v = 0;
            else
                return 0;
            return nd->op == OP_EQ ? v == (int)nd->i : v != (int)nd->i;
        }
        }
    }
    return 0;
}

int when_eval(const struct when *w, const struct event_batch *b, const struct event *ev)
{
    if (!w)
        return 1;
    return eval_node(w, w->root, b, ev);
}
