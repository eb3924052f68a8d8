/*
 * sched_parse.h — shared by the schedule-file scanner, parser and
 * sched_file.c; not part of the interface (that is sched.h).
 */
#ifndef VISEC_SCHED_PARSE_H
#define VISEC_SCHED_PARSE_H

#include "schedules.h"

/* The value of one field, as written. */
typedef enum SchedValueKind {
    SV_NAME,            /* gemm */
    SV_CALL,            /* winograd(2) */
    SV_INT,             /* 0 */
    SV_BLOCK,           /* 6x64, 6 x 64 */
    SV_PAIR,            /* co, pix */
} SchedValueKind;

typedef struct SchedValue {
    SchedValueKind kind;
    char *name;         /* SV_NAME, SV_CALL, SV_PAIR: the (first) name */
    char *name2;        /* SV_PAIR: the second name; SV_BLOCK written with spaces: the "x" */
    int i, j;           /* SV_CALL, SV_INT: i; SV_BLOCK: i x j */
    Loc loc;            /* the whole value */
} SchedValue;

/* The parser's state (yyextra of the scanner, parse-param of the parser). */
typedef struct SchedParser {
    const Source *src;  /* the file */
    Diag *d;            /* errors */
    int line, col;      /* scanner position */
    SchedFile *f;       /* what is built */
    SchedEntry *cur;    /* the entry whose fields are being read, or NULL */
    int lex_error_line; /* the last line with a lexical error: no more errors on it */
} SchedParser;

/* Grammar actions (sched_file.c): each takes ownership of its strings. */
void sp_target(SchedParser *p, char *name, Loc loc);
void sp_begin(SchedParser *p, char *pattern, Loc loc);
void sp_end(SchedParser *p);
void sp_field(SchedParser *p, char *key, Loc key_loc, SchedValue v);
void sp_value_free(SchedValue *v);

/* sched_parser.y: parses src; NULL if it had errors. */
SchedFile *schedfile_parse(const Source *src, Diag *d);

#endif
