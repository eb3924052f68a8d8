/*
 * sched_parser.y — the grammar of schedule files (docs/schedules.md):
 *
 *     target x86-64-v4;            # optional: the target it was written for
 *     default { parallel = inside; }
 *     l4_0_conv2 { algo = winograd(2); reg = 6x64; order = co,pix; }
 *     l6_*_conv2 { tile_k = 256; }
 *
 * A pure, located parser over a reentrant scanner, like the model
 * language's; actions only call the constructors in sched_file.c.  A
 * syntax error skips to the next ';' or '}' and parsing goes on, so one run
 * reports every broken statement.
 */
%code requires {
#include "sched_parse.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
}

%code {
#include <stdlib.h>
#include <string.h>

#include "sched_lexer.h"

static Loc
loc(const SchedParser *p, SCHED_YYLTYPE l)
{
    int len = l.last_line == l.first_line && l.last_column > l.first_column
                  ? l.last_column - l.first_column : 1;
    return (Loc){p->src, l.first_line, l.first_column, len};
}
#define L(at) loc(P, at)

/* The Loc from the start of a to the end of b (on one line). */
static Loc
span(const SchedParser *p, SCHED_YYLTYPE a, SCHED_YYLTYPE b)
{
    Loc l = loc(p, a);
    if (b.last_line == a.first_line && b.last_column > a.first_column)
        l.len = b.last_column - a.first_column;
    return l;
}

static void sched_yyerror(SCHED_YYLTYPE *l, yyscan_t scanner, SchedParser *P, const char *msg);
}

%define api.prefix {sched_yy}
%define api.pure full
%define parse.error detailed
%define parse.lac full
%locations
%expect 0
%param {yyscan_t scanner}
%parse-param {SchedParser *P}

%union {
    char *str;
    int ival;
    int pair[2];
    SchedValue val;
}

%token <str> NAME "name"
%token <ival> INT "number"
%token <pair> BLOCK "block size"
%token TARGET "'target'"

%type <val> value

%destructor { free($$); } <str>
%destructor { sp_value_free(&$$); } <val>

%%

file:
    %empty
|   file stmt
|   file error ';'              { yyerrok; }
|   file error '}'              { yyerrok; P->cur = NULL; }
;

stmt:
    TARGET NAME ';'             { sp_target(P, $2, L(@2)); }
|   entry fields '}'            { sp_end(P); }
;

entry:
    NAME '{'                    { sp_begin(P, $1, L(@1)); }
;

fields:
    %empty
|   fields field
|   fields error ';'            { yyerrok; }
;

field:
    NAME '=' value ';'          { sp_field(P, $1, L(@1), $3); }
;

value:
    NAME                        { $$ = (SchedValue){SV_NAME, $1, NULL, 0, 0, L(@1)}; }
|   NAME '(' INT ')'            { $$ = (SchedValue){SV_CALL, $1, NULL, $3, 0, span(P, @1, @4)}; }
|   INT                         { $$ = (SchedValue){SV_INT, NULL, NULL, $1, 0, L(@1)}; }
|   BLOCK                       { $$ = (SchedValue){SV_BLOCK, NULL, NULL, $1[0], $1[1], L(@1)}; }
|   INT NAME INT                { $$ = (SchedValue){SV_BLOCK, NULL, $2, $1, $3, span(P, @1, @3)}; }
|   NAME ',' NAME               { $$ = (SchedValue){SV_PAIR, $1, $3, 0, 0, span(P, @1, @3)}; }
;

%%

static void
sched_yyerror(SCHED_YYLTYPE *l, yyscan_t scanner, SchedParser *P, const char *msg)
{
    (void)scanner;
    if (l->first_line == P->lex_error_line)
        return;     /* the line's lexical error says enough */
    if (!strncmp(msg, "syntax error, ", 14))
        msg += 14;
    error_at(P->d, loc(P, *l), "%s", msg);
}

SchedFile *
schedfile_parse(const Source *src, Diag *d)
{
    SchedParser p = {.src = src, .d = d, .line = 1, .col = 1};
    p.f = xcalloc(1, sizeof *p.f);
    int errors = d->nerrors;
    yyscan_t scanner;
    if (sched_yylex_init_extra(&p, &scanner))
        bug("cannot start the scanner");
    YY_BUFFER_STATE buf = sched_yy_scan_bytes(src->text, (int)src->len, scanner);
    int rc = sched_yyparse(scanner, &p);
    sched_yy_delete_buffer(buf, scanner);
    sched_yylex_destroy(scanner);
    if (rc == 2)
        error_at(d, (Loc){src, p.line, p.col, 1}, "schedule file too deeply nested");
    if (rc || d->nerrors > errors) {
        if (!d->nerrors)
            error_plain(d, "%s: cannot parse the schedule file", src->path);
        schedfile_free(p.f);
        return NULL;
    }
    return p.f;
}
