/*
 * parser.y — the grammar of the model description language.
 *
 * A pure, located parser over a reentrant scanner: all state is in the
 * Parser (see ast.h).  Actions only call the constructors in ast.c.
 * Statements end at a newline; inside (...) and [...] a newline may follow
 * '(', '[' or ','.  A syntax error skips to the end of its line and parsing
 * goes on, so one run reports every broken line.
 */
%code requires {
#include "ast.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
}

%code {
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

/* The Loc of one token or rule. */
static Loc
loc(const Parser *p, YYLTYPE l)
{
    int len = l.last_line == l.first_line && l.last_column > l.first_column
                  ? l.last_column - l.first_column : 1;
    return (Loc){p->src, l.first_line, l.first_column, len};
}
#define L(at) loc(P, at)

/* The Loc of the last character of a rule: a block's closing brace. */
static Loc
end_loc(const Parser *p, YYLTYPE l)
{
    return (Loc){p->src, l.last_line, l.last_column - 1, 1};
}

static void yyerror(YYLTYPE *l, yyscan_t scanner, Parser *P, const char *msg);
}

%define api.pure full
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {yyscan_t scanner}
%parse-param {Parser *P}

%union {
    char *str;
    int64_t ival;
    double fval;
    Expr *expr;
    Stmt *stmt;
    Arg *arg;
    Param *param;
    PtrVec *stmts;
    PtrVec *exprs;
    PtrVec *args;
    PtrVec *params;
}

%token <str> IDENT "name"
%token <str> STRING "string"
%token <ival> INT "integer"
%token <fval> FLOAT "number"
%token NL "end of line"
%token MODEL "'model'" INPUT "'input'" OUTPUT "'output'" BLOCK "'block'"
%token RETURN "'return'" FOR "'for'" IN "'in'" IF "'if'" ELSE "'else'"
%token FROM "'from'" IMPORT "'import'" TRUE "'true'" FALSE "'false'"
%token AND "'and'" OR "'or'" NOT "'not'"
%token DOTDOT "'..'" EQ "'=='" NE "'!='" LE "'<='" GE "'>='"

%type <stmt> item stmt if_stmt
%type <stmts> items lines body
%type <expr> expr primary
%type <exprs> exprs names
%type <arg> arg
%type <args> args call_args
%type <param> param
%type <params> params param_list

%destructor { free($$); } <str>
%destructor { expr_free($$); } <expr>
%destructor { stmt_free($$); } <stmt>
%destructor { arg_free($$); } <arg>
%destructor { param_free($$); } <param>
%destructor { stmts_free($$); } <stmts>
%destructor { exprs_free($$); } <exprs>
%destructor { args_free($$); } <args>
%destructor { params_free($$); } <params>

%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE
%left '+' '-'
%left '*' '/' '%'
%precedence NEG

%%

program:
    items                       { for (int i = 0; i < $1->n; i++) vec_push(&P->prog->items, $1->v[i]);
                                  free($1->v); free($1); }
;

items:
    %empty                      { $$ = ast_list(NULL, NULL); }
|   items NL                    { $$ = $1; }
|   items item NL               { $$ = ast_list($1, $2); }
|   items error NL              { $$ = $1; yyerrok; }
;

/* Top-level only: the model's name and inputs, blocks, imports.  A broken
 * header of a block, loop or if skips to its body, which is still parsed. */
item:
    MODEL IDENT                 { $$ = ast_model(L(@1), L(@2), $2); }
|   INPUT IDENT ':' '[' nls exprs ']'
                                { $$ = ast_input(L(@1), L(@2), $2, $6); }
|   BLOCK IDENT '(' nls params ')' body
                                { $$ = ast_block(L(@1), L(@2), $2, $5, $7, end_loc(P, @7)); }
|   FROM STRING IMPORT names    { $$ = ast_import(L(@2), $2, $4); }
|   BLOCK IDENT error body      { $$ = NULL; free($2); stmts_free($4); }
|   stmt
;

stmt:
    IDENT '=' expr              { $$ = ast_assign(L(@1), $1, $3); }
|   OUTPUT IDENT                { $$ = ast_output(L(@1), L(@2), $2, NULL); }
|   OUTPUT IDENT '=' expr       { $$ = ast_output(L(@1), L(@2), $2, $4); }
|   RETURN expr                 { $$ = ast_return(L(@1), $2); }
|   FOR IDENT IN expr DOTDOT expr body
                                { $$ = ast_for(L(@1), L(@2), $2, $4, $6, $7); }
|   FOR error body              { $$ = NULL; stmts_free($3); }
|   if_stmt
;

if_stmt:
    IF error body               { $$ = NULL; stmts_free($3); }
|   IF expr body                { $$ = ast_if(L(@1), $2, $3, NULL); }
|   IF expr body ELSE body      { $$ = ast_if(L(@1), $2, $3, $5); }
|   IF expr body ELSE if_stmt   { $$ = ast_if(L(@1), $2, $3, ast_list(NULL, $5)); }
;

body:
    '{' lines '}'               { $$ = $2; }
|   '{' lines stmt '}'          { $$ = ast_list($2, $3); }
;

lines:
    %empty                      { $$ = ast_list(NULL, NULL); }
|   lines NL                    { $$ = $1; }
|   lines stmt NL               { $$ = ast_list($1, $2); }
|   lines error NL              { $$ = $1; yyerrok; }
;

/* Optional newlines after '(', '[' and ','. */
nls:
    %empty
|   nls NL
;

params:
    %empty                      { $$ = ast_list(NULL, NULL); }
|   param_list
|   param_list ',' nls
;

param_list:
    param                       { $$ = ast_list(NULL, $1); }
|   param_list ',' nls param    { $$ = ast_list($1, $4); }
;

param:
    IDENT ':' IDENT             { $$ = ast_param(L(@1), $1, L(@3), $3, NULL); }
|   IDENT ':' IDENT '=' expr    { $$ = ast_param(L(@1), $1, L(@3), $3, $5); }
;

names:
    IDENT                       { $$ = ast_list(NULL, ast_name(L(@1), $1)); }
|   names ',' IDENT             { $$ = ast_list($1, ast_name(L(@3), $3)); }
;

exprs:
    expr                        { $$ = ast_list(NULL, $1); }
|   exprs ',' nls expr          { $$ = ast_list($1, $4); }
;

expr:
    primary
|   expr '+' expr               { $$ = ast_binary(P, L(@2), B_ADD, $1, $3); }
|   expr '-' expr               { $$ = ast_binary(P, L(@2), B_SUB, $1, $3); }
|   expr '*' expr               { $$ = ast_binary(P, L(@2), B_MUL, $1, $3); }
|   expr '/' expr               { $$ = ast_binary(P, L(@2), B_DIV, $1, $3); }
|   expr '%' expr               { $$ = ast_binary(P, L(@2), B_MOD, $1, $3); }
|   expr EQ expr                { $$ = ast_binary(P, L(@2), B_EQ, $1, $3); }
|   expr NE expr                { $$ = ast_binary(P, L(@2), B_NE, $1, $3); }
|   expr '<' expr               { $$ = ast_binary(P, L(@2), B_LT, $1, $3); }
|   expr LE expr                { $$ = ast_binary(P, L(@2), B_LE, $1, $3); }
|   expr '>' expr               { $$ = ast_binary(P, L(@2), B_GT, $1, $3); }
|   expr GE expr                { $$ = ast_binary(P, L(@2), B_GE, $1, $3); }
|   expr AND expr               { $$ = ast_binary(P, L(@2), B_AND, $1, $3); }
|   expr OR expr                { $$ = ast_binary(P, L(@2), B_OR, $1, $3); }
|   '-' expr %prec NEG          { $$ = ast_unary(P, L(@1), B_NEG, $2); }
|   NOT expr                    { $$ = ast_unary(P, L(@1), B_NOT, $2); }
;

primary:
    INT                         { $$ = ast_int(L(@1), $1); }
|   FLOAT                       { $$ = ast_float(L(@1), $1); }
|   STRING                      { $$ = ast_string(P, L(@1), $1); free($1); }
|   TRUE                        { $$ = ast_bool(L(@1), true); }
|   FALSE                       { $$ = ast_bool(L(@1), false); }
|   IDENT                       { $$ = ast_name(L(@1), $1); }
|   IDENT '(' nls call_args ')' { $$ = ast_call(P, L(@1), $1, $4); }
|   '(' nls expr ')'            { $$ = $3; }
|   '(' nls expr ',' nls expr ')'
                                { $$ = ast_pair(P, L(@1), $3, $6); }
;

call_args:
    %empty                      { $$ = ast_list(NULL, NULL); }
|   args
|   args ',' nls
;

args:
    arg                         { $$ = ast_list(NULL, $1); }
|   args ',' nls arg            { $$ = ast_list($1, $4); }
;

arg:
    expr                        { $$ = ast_arg(L(@1), NULL, $1); }
|   IDENT '=' expr              { $$ = ast_arg(L(@1), $1, $3); }
;

%%

/* How a token is named in a message: 'kernel' for the token at hand, a
 * description ("end of line", "')'") for an expected one. */
static const char *
sym_desc(yysymbol_kind_t k, char *buf, size_t size)
{
    const char *s = yysymbol_name(k);
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
        snprintf(buf, size, "%.*s", (int)(n - 2), s + 1);
    else
        snprintf(buf, size, "%s", s);
    return buf;
}

/* The text of the token at l, quoted, as the user wrote it. */
static const char *
tok_text(const Parser *p, const YYLTYPE *l, char *buf, size_t size)
{
    const char *s = p->src->text;
    for (int line = 1; line < l->first_line && *s; s++)
        if (*s == '\n')
            line++;
    s += l->first_column - 1;
    int n = l->last_column - l->first_column;
    if (n > 24)
        snprintf(buf, size, "'%.20s...'", s);
    else
        snprintf(buf, size, "'%.*s'", n, s);
    return buf;
}

static bool
is_sym(yysymbol_kind_t k, const char *name)
{
    return strcmp(yysymbol_name(k), name) == 0;
}

/* Tokens that can start an expression (besides a name). */
static bool
expr_start(yysymbol_kind_t k)
{
    return k == YYSYMBOL_STRING || k == YYSYMBOL_INT || k == YYSYMBOL_FLOAT ||
           k == YYSYMBOL_TRUE || k == YYSYMBOL_FALSE || k == YYSYMBOL_NOT;
}

/* Binary operators: always possible after an expression, so never listed. */
static bool
binary_op(yysymbol_kind_t k)
{
    return k == YYSYMBOL_EQ || k == YYSYMBOL_NE || k == YYSYMBOL_LE || k == YYSYMBOL_GE ||
           k == YYSYMBOL_AND || k == YYSYMBOL_OR || is_sym(k, "'+'") || is_sym(k, "'-'") ||
           is_sym(k, "'*'") || is_sym(k, "'/'") || is_sym(k, "'%'") || is_sym(k, "'<'") ||
           is_sym(k, "'>'");
}

/*
 * "expected ')' or ',' before 'kernel'", "expected an expression at end of
 * line", "unexpected 'block'": names what was found and, when the choice is
 * small, what would have fitted.
 */
static int
yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, Parser *P)
{
    (void)scanner;
    /* A line with a lexical error has been reported already. */
    if (yypcontext_location(ctx)->first_line == P->lex_error_line)
        return 0;
    yysymbol_kind_t exp[YYNTOKENS], got = yypcontext_token(ctx);
    int nexp = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
    const YYLTYPE *l = yypcontext_location(ctx);
    char where[64], b[64];
    if (got == YYSYMBOL_NL)
        snprintf(where, sizeof where, "at end of line");
    else if (got == YYSYMBOL_YYEOF)
        snprintf(where, sizeof where, "at end of file");
    else
        snprintf(where, sizeof where, "before %s", tok_text(P, l, b, sizeof b));

    /* Fold the tokens that can start an expression into one word. */
    const char *list[YYNTOKENS + 1];
    char descs[YYNTOKENS][32];
    int n = 0;
    bool has_name = false, has_expr = false, brace = false, in_list = false, after = false;
    for (int i = 0; i < nexp; i++) {
        has_expr = has_expr || expr_start(exp[i]);
        after = after || binary_op(exp[i]);     /* just after an expression */
        in_list = in_list || is_sym(exp[i], "')'") || is_sym(exp[i], "','");
    }
    for (int i = 0; i < nexp; i++) {
        if (exp[i] == YYSYMBOL_IDENT)
            has_name = true;
        else if (expr_start(exp[i]) || binary_op(exp[i]))
            continue;
        else if (is_sym(exp[i], "'('") && (has_expr || in_list || after))
            continue;   /* an expression, or a call of the name just read */
        else if (is_sym(exp[i], "'='") && in_list)
            continue;   /* a keyword argument */
        else
            list[n++] = sym_desc(exp[i], descs[i], sizeof descs[i]);
        brace = brace || is_sym(exp[i], "'}'");
    }
    if (has_expr)
        list[n++] = "an expression";
    else if (has_name)
        list[n++] = "a name";

    Loc at = loc(P, *l);
    bool closing = brace && (got == YYSYMBOL_YYEOF || got == YYSYMBOL_BLOCK ||
                             got == YYSYMBOL_MODEL || got == YYSYMBOL_INPUT ||
                             got == YYSYMBOL_FROM);
    if (closing) {
        error_at(P->d, at, "expected '}' %s", where);
        if (P->nbraces > 0)
            note_at(P->d, P->braces[P->nbraces - 1], "to close this '{'");
    } else if (n == 0 || n > 4) {
        if (got == YYSYMBOL_NL)
            error_at(P->d, at, "unexpected end of line");
        else if (got == YYSYMBOL_YYEOF)
            error_at(P->d, at, "unexpected end of file");
        else
            error_at(P->d, at, "unexpected %s", tok_text(P, l, b, sizeof b));
    } else {
        char msg[256];
        size_t k = 0;
        for (int i = 0; i < n; i++)
            k += (size_t)snprintf(msg + k, sizeof msg - k, "%s%s",
                                  i == 0 ? "" : i == n - 1 ? " or " : ", ", list[i]);
        error_at(P->d, at, "expected %s %s", msg, where);
    }
    return 0;
}

static void
yyerror(YYLTYPE *l, yyscan_t scanner, Parser *P, const char *msg)
{
    (void)scanner;
    if (strcmp(msg, "memory exhausted") == 0)
        error_at(P->d, loc(P, *l), "nested too deeply for the parser");
    else
        error_at(P->d, loc(P, *l), "%s", msg);
}

Program *
parse_program(const Source *src, Diag *d)
{
    Parser p = {.src = src, .d = d, .line = 1, .col = 1};
    p.prog = xcalloc(1, sizeof *p.prog);
    p.prog->src = src;
    int errors = d->nerrors;
    yyscan_t scanner;
    if (yylex_init_extra(&p, &scanner))
        bug("cannot start the scanner");
    YY_BUFFER_STATE buf = yy_scan_bytes(src->text, (int)src->len, scanner);
    int rc = yyparse(scanner, &p);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    if (rc != 0 || d->nerrors > errors) {
        if (rc != 0 && d->nerrors == errors)
            error_at(d, (Loc){src, p.line, p.col, 1}, "cannot parse this description");
        program_free(p.prog);
        return NULL;
    }
    return p.prog;
}
