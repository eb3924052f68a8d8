/*
 * ast.c — constructors, destructors and a dump of the syntax tree.
 *
 * The grammar actions in parser.y only call these.  The one constructor that
 * can find a mistake is ast_string(): it splits "{p}.conv1" into literal text
 * and interpolated names and reports malformed braces and escapes at their
 * exact column.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

/* ------------------------------------------------------------------ expressions */

static Expr *
expr_new(ExprKind kind, Loc loc)
{
    Expr *e = xcalloc(1, sizeof *e);
    e->kind = kind;
    e->loc = loc;
    return e;
}

Expr *
ast_int(Loc loc, int64_t v)
{
    Expr *e = expr_new(E_INT, loc);
    e->ival = v;
    return e;
}

Expr *
ast_float(Loc loc, double v)
{
    Expr *e = expr_new(E_FLOAT, loc);
    e->fval = v;
    return e;
}

Expr *
ast_bool(Loc loc, bool v)
{
    Expr *e = expr_new(E_BOOL, loc);
    e->bval = v;
    return e;
}

static void
add_part(Expr *e, char *text, bool is_name, Loc loc)
{
    e->parts = xrealloc(e->parts, (size_t)(e->nparts + 1) * sizeof *e->parts);
    e->parts[e->nparts++] = (StrPart){text, is_name, loc};
}

/* The location of raw[off..off+len) inside the string token at loc. */
static Loc
inner_loc(Loc loc, size_t off, size_t len)
{
    Loc l = loc;
    l.col = loc.col + 1 + (int)off;
    l.len = len ? (int)len : 1;
    return l;
}

/*
 * string := { char | "\\" | "\"" | "{{" | "}}" | "{" name "}" }
 * Literal runs are collected into one part; each "{name}" is its own part.
 */
Expr *
ast_string(Parser *p, Loc loc, const char *raw)
{
    Expr *e = expr_new(E_STRING, loc);
    size_t n = strlen(raw), cap = n + 1, k = 0;
    char *buf = xmalloc(cap);
    for (size_t i = 0; i < n; i++) {
        char c = raw[i];
        if (c == '\\') {
            char x = raw[i + 1];
            if (x == '\\' || x == '"') {
                buf[k++] = x;
                i++;
            } else {
                error_at(p->d, inner_loc(loc, i, 2), "unknown escape '\\%c' in string; only '\\\\' and '\\\"' are allowed", x);
                i++;
            }
        } else if ((c == '{' || c == '}') && raw[i + 1] == c) {
            buf[k++] = c;
            i++;
        } else if (c == '}') {
            error_at(p->d, inner_loc(loc, i, 1), "unmatched '}' in string; write '}}' for a literal brace");
        } else if (c == '{') {
            size_t j = i + 1;
            while (j < n && (isalnum((unsigned char)raw[j]) || raw[j] == '_'))
                j++;
            if (j >= n || raw[j] != '}') {
                error_at(p->d, inner_loc(loc, i, 1),
                         "unterminated '{' in string; write '{{' for a literal brace");
                break;
            }
            if (j == i + 1 || isdigit((unsigned char)raw[i + 1])) {
                error_at(p->d, inner_loc(loc, i, j - i + 1), "expected a name between '{' and '}'");
                i = j;
                continue;
            }
            if (k) {
                buf[k] = '\0';
                add_part(e, xstrdup(buf), false, loc);
                k = 0;
            }
            char *name = xmalloc(j - i);
            memcpy(name, raw + i + 1, j - i - 1);
            name[j - i - 1] = '\0';
            add_part(e, name, true, inner_loc(loc, i + 1, j - i - 1));
            i = j;
        } else {
            buf[k++] = c;
        }
    }
    if (k || e->nparts == 0) {
        buf[k] = '\0';
        add_part(e, xstrdup(buf), false, loc);
    }
    free(buf);
    return e;
}

Expr *
ast_name(Loc loc, char *name)
{
    Expr *e = expr_new(E_NAME, loc);
    e->name = name;
    return e;
}

/* Sets e's depth from its operands; a too deep expression becomes a leaf. */
static Expr *
nest(Parser *p, Expr *e)
{
    int d = 0;
    if (e->lhs && e->lhs->depth > d)
        d = e->lhs->depth;
    if (e->rhs && e->rhs->depth > d)
        d = e->rhs->depth;
    for (int i = 0; e->args && i < e->args->n; i++) {
        const Arg *a = e->args->v[i];
        if (a->value->depth > d)
            d = a->value->depth;
    }
    e->depth = d + 1;
    if (e->depth <= MAX_EXPR_DEPTH)
        return e;
    if (!p->too_deep)
        error_at(p->d, e->loc, "expression is nested more than %d deep", MAX_EXPR_DEPTH);
    p->too_deep = true;
    Loc loc = e->loc;
    expr_free(e);
    return ast_int(loc, 0);
}

Expr *
ast_call(Parser *p, Loc loc, char *name, PtrVec *args)
{
    Expr *e = expr_new(E_CALL, loc);
    e->name = name;
    e->args = args ? args : ast_list(NULL, NULL);
    return nest(p, e);
}

Expr *
ast_pair(Parser *p, Loc loc, Expr *a, Expr *b)
{
    Expr *e = expr_new(E_PAIR, loc);
    e->lhs = a;
    e->rhs = b;
    return nest(p, e);
}

Expr *
ast_binary(Parser *p, Loc loc, BinOp op, Expr *a, Expr *b)
{
    Expr *e = expr_new(E_BINARY, loc);
    e->op = op;
    e->lhs = a;
    e->rhs = b;
    return nest(p, e);
}

Expr *
ast_unary(Parser *p, Loc loc, BinOp op, Expr *a)
{
    Expr *e = expr_new(E_UNARY, loc);
    e->op = op;
    e->lhs = a;
    return nest(p, e);
}

Arg *
ast_arg(Loc name_loc, char *name, Expr *value)
{
    Arg *a = xcalloc(1, sizeof *a);
    a->name = name;
    a->name_loc = name_loc;
    a->value = value;
    return a;
}

Param *
ast_param(Loc loc, char *name, Loc type_loc, char *type, Expr *def)
{
    Param *p = xcalloc(1, sizeof *p);
    p->name = name;
    p->loc = loc;
    p->type = type;
    p->type_loc = type_loc;
    p->def = def;
    return p;
}

/* ------------------------------------------------------------------ statements */

Stmt *
ast_stmt(StmtKind kind, Loc loc)
{
    Stmt *s = xcalloc(1, sizeof *s);
    s->kind = kind;
    s->loc = loc;
    return s;
}

/* A statement that introduces or assigns the name at name_loc. */
static Stmt *
named_stmt(StmtKind kind, Loc loc, Loc name_loc, char *name)
{
    Stmt *s = ast_stmt(kind, loc);
    s->name = name;
    s->name_loc = name_loc;
    return s;
}

Stmt *
ast_model(Loc loc, Loc name_loc, char *name)
{
    return named_stmt(S_MODEL, loc, name_loc, name);
}

Stmt *
ast_input(Loc loc, Loc name_loc, char *name, PtrVec *dims)
{
    Stmt *s = named_stmt(S_INPUT, loc, name_loc, name);
    s->list = dims;
    return s;
}

Stmt *
ast_output(Loc loc, Loc name_loc, char *name, Expr *value)
{
    Stmt *s = named_stmt(S_OUTPUT, loc, name_loc, name);
    s->value = value;
    return s;
}

Stmt *
ast_block(Loc loc, Loc name_loc, char *name, PtrVec *params, PtrVec *body, Loc end)
{
    Stmt *s = named_stmt(S_BLOCK, loc, name_loc, name);
    s->list = params;
    s->body = body;
    s->end_loc = end;
    return s;
}

Stmt *
ast_import(Loc loc, char *path, PtrVec *names)
{
    Stmt *s = ast_stmt(S_IMPORT, loc);
    s->path = path;
    s->list = names;
    return s;
}

Stmt *
ast_assign(Loc loc, char *name, Expr *value)
{
    Stmt *s = named_stmt(S_ASSIGN, loc, loc, name);
    s->value = value;
    return s;
}

Stmt *
ast_for(Loc loc, Loc name_loc, char *name, Expr *lo, Expr *hi, PtrVec *body)
{
    Stmt *s = named_stmt(S_FOR, loc, name_loc, name);
    s->value = lo;
    s->hi = hi;
    s->body = body;
    return s;
}

Stmt *
ast_if(Loc loc, Expr *cond, PtrVec *then, PtrVec *els)
{
    Stmt *s = ast_stmt(S_IF, loc);
    s->value = cond;
    s->body = then;
    s->els = els;
    return s;
}

Stmt *
ast_return(Loc loc, Expr *value)
{
    Stmt *s = ast_stmt(S_RETURN, loc);
    s->value = value;
    return s;
}

PtrVec *
ast_list(PtrVec *list, void *item)
{
    if (!list)
        list = xcalloc(1, sizeof *list);
    if (item)
        vec_push(list, item);
    return list;
}

/* ------------------------------------------------------------------ freeing */

void
expr_free(Expr *e)
{
    if (!e)
        return;
    free(e->name);
    for (int i = 0; i < e->nparts; i++)
        free(e->parts[i].text);
    free(e->parts);
    expr_free(e->lhs);
    expr_free(e->rhs);
    args_free(e->args);
    free(e);
}

void
arg_free(Arg *a)
{
    if (!a)
        return;
    free(a->name);
    expr_free(a->value);
    free(a);
}

void
param_free(Param *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->type);
    expr_free(p->def);
    free(p);
}

#define LIST_FREE(fn, type, elem_free)          \
    void fn(PtrVec *v)                          \
    {                                           \
        if (!v)                                 \
            return;                             \
        for (int i = 0; i < v->n; i++)          \
            elem_free((type *)v->v[i]);         \
        free(v->v);                             \
        free(v);                                \
    }
LIST_FREE(exprs_free, Expr, expr_free)
LIST_FREE(stmts_free, Stmt, stmt_free)
LIST_FREE(args_free, Arg, arg_free)
LIST_FREE(params_free, Param, param_free)

void
stmt_free(Stmt *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->path);
    expr_free(s->value);
    expr_free(s->hi);
    stmts_free(s->body);
    stmts_free(s->els);
    if (s->kind == S_BLOCK)
        params_free(s->list);
    else
        exprs_free(s->list);
    free(s);
}

void
program_free(Program *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->items.n; i++)
        stmt_free(p->items.v[i]);
    free(p->items.v);
    free(p);
}

/* ------------------------------------------------------------------ dump */

const char *
binop_str(BinOp op)
{
    static const char *const s[] = {
        [B_ADD] = "+", [B_SUB] = "-", [B_MUL] = "*", [B_DIV] = "/", [B_MOD] = "%",
        [B_EQ] = "==", [B_NE] = "!=", [B_LT] = "<", [B_LE] = "<=", [B_GT] = ">",
        [B_GE] = ">=", [B_AND] = "and", [B_OR] = "or", [B_NEG] = "-", [B_NOT] = "not",
    };
    return s[op];
}

static void
print_expr(FILE *f, const Expr *e)
{
    switch (e->kind) {
    case E_INT:
        fprintf(f, "%lld", (long long)e->ival);
        break;
    case E_FLOAT:
        fprintf(f, "%g", e->fval);
        break;
    case E_BOOL:
        fputs(e->bval ? "true" : "false", f);
        break;
    case E_STRING:
        fputc('"', f);
        for (int i = 0; i < e->nparts; i++)
            fprintf(f, e->parts[i].is_name ? "{%s}" : "%s", e->parts[i].text);
        fputc('"', f);
        break;
    case E_NAME:
        fputs(e->name, f);
        break;
    case E_CALL:
        fprintf(f, "%s(", e->name);
        for (int i = 0; i < e->args->n; i++) {
            const Arg *a = e->args->v[i];
            if (i)
                fputs(", ", f);
            if (a->name)
                fprintf(f, "%s=", a->name);
            print_expr(f, a->value);
        }
        fputc(')', f);
        break;
    case E_PAIR:
        fputc('(', f);
        print_expr(f, e->lhs);
        fputs(", ", f);
        print_expr(f, e->rhs);
        fputc(')', f);
        break;
    case E_BINARY:
        fputc('(', f);
        print_expr(f, e->lhs);
        fprintf(f, " %s ", binop_str(e->op));
        print_expr(f, e->rhs);
        fputc(')', f);
        break;
    case E_UNARY:
        fprintf(f, "(%s%s", binop_str(e->op), e->op == B_NOT ? " " : "");
        print_expr(f, e->lhs);
        fputc(')', f);
        break;
    }
}

static void print_stmts(FILE *f, const PtrVec *v, int depth);

static void
print_stmt(FILE *f, const Stmt *s, int depth)
{
    fprintf(f, "%*s%d:%d ", 2 * depth, "", s->loc.line, s->loc.col);
    switch (s->kind) {
    case S_MODEL:
        fprintf(f, "model %s\n", s->name);
        break;
    case S_INPUT:
        fprintf(f, "input %s [", s->name);
        for (int i = 0; i < s->list->n; i++) {
            if (i)
                fputs(", ", f);
            print_expr(f, s->list->v[i]);
        }
        fputs("]\n", f);
        break;
    case S_OUTPUT:
        fprintf(f, "output %s", s->name);
        if (s->value) {
            fputs(" = ", f);
            print_expr(f, s->value);
        }
        fputc('\n', f);
        break;
    case S_BLOCK:
        fprintf(f, "block %s(", s->name);
        for (int i = 0; i < s->list->n; i++) {
            const Param *p = s->list->v[i];
            fprintf(f, "%s%s: %s", i ? ", " : "", p->name, p->type);
            if (p->def) {
                fputs(" = ", f);
                print_expr(f, p->def);
            }
        }
        fputs(")\n", f);
        print_stmts(f, s->body, depth + 1);
        break;
    case S_IMPORT:
        fprintf(f, "from \"%s\" import", s->path);
        for (int i = 0; i < s->list->n; i++)
            fprintf(f, "%s %s", i ? "," : "", ((Expr *)s->list->v[i])->name);
        fputc('\n', f);
        break;
    case S_ASSIGN:
        fprintf(f, "%s = ", s->name);
        print_expr(f, s->value);
        fputc('\n', f);
        break;
    case S_FOR:
        fprintf(f, "for %s in ", s->name);
        print_expr(f, s->value);
        fputs("..", f);
        print_expr(f, s->hi);
        fputc('\n', f);
        print_stmts(f, s->body, depth + 1);
        break;
    case S_IF:
        fputs("if ", f);
        print_expr(f, s->value);
        fputc('\n', f);
        print_stmts(f, s->body, depth + 1);
        if (s->els) {
            fprintf(f, "%*selse\n", 2 * depth, "");
            print_stmts(f, s->els, depth + 1);
        }
        break;
    case S_RETURN:
        fputs("return ", f);
        print_expr(f, s->value);
        fputc('\n', f);
        break;
    }
}

static void
print_stmts(FILE *f, const PtrVec *v, int depth)
{
    for (int i = 0; i < v->n; i++)
        print_stmt(f, v->v[i], depth);
}

void
program_print(FILE *f, const Program *p)
{
    print_stmts(f, &p->items, 0);
}
