/*
 * ast.h — the syntax tree of a model description (lexer.l, parser.y, ast.c).
 *
 * The parser builds this tree and nothing else; lower.c walks it to make the
 * graph.  Every node keeps the Loc of the token that best names it (an op
 * call: the op name; a binary expression: its operator), so elaboration can
 * point at the exact place of a mistake.
 */
#ifndef VISEC_AST_H
#define VISEC_AST_H

#include "ir.h"

/* ------------------------------------------------------------------ expressions */

typedef enum ExprKind {
    E_INT,              /* 64 */
    E_FLOAT,            /* 1e-5 */
    E_STRING,           /* "{p}.conv1", split into parts */
    E_BOOL,             /* true, false */
    E_NAME,             /* planes */
    E_CALL,             /* conv2d(x, "0", out=64): an op or a block */
    E_PAIR,             /* (3, 3) */
    E_BINARY,           /* a + b, a == b, a and b */
    E_UNARY,            /* -a, not a */
} ExprKind;

/* Binary and unary operators. */
typedef enum BinOp {
    B_ADD, B_SUB, B_MUL, B_DIV, B_MOD,
    B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
    B_AND, B_OR,
    B_NEG, B_NOT,       /* unary */
} BinOp;

/* One piece of a string literal: literal text or an interpolated name. */
typedef struct StrPart {
    char *text;         /* literal text (escapes resolved), or the name to interpolate */
    bool is_name;       /* true for "{name}" */
    Loc loc;            /* the name inside the string (is_name only) */
} StrPart;

/* One argument of a call: positional (name == NULL) or keyword. */
typedef struct Arg {
    char *name;         /* keyword, or NULL */
    Loc name_loc;       /* the keyword */
    struct Expr *value; /* the argument */
} Arg;

typedef struct Expr {
    ExprKind kind;      /* what it is */
    Loc loc;            /* literal, name, callee or operator token */
    int64_t ival;       /* E_INT */
    double fval;        /* E_FLOAT */
    bool bval;          /* E_BOOL */
    char *name;         /* E_NAME, E_CALL: the identifier */
    StrPart *parts;     /* E_STRING: the pieces in order */
    int nparts;         /* E_STRING: number of pieces */
    BinOp op;           /* E_BINARY, E_UNARY */
    struct Expr *lhs;   /* E_BINARY, E_PAIR: left; E_UNARY: operand */
    struct Expr *rhs;   /* E_BINARY, E_PAIR: right */
    PtrVec *args;       /* E_CALL: Arg*, in order */
    int depth;          /* nesting: 0 for a leaf, else 1 + the deepest operand */
} Expr;

/* Deeper expressions are an error, so no later recursion over them can
 * exhaust the stack. */
#define MAX_EXPR_DEPTH 100

/* ------------------------------------------------------------------ statements */

typedef enum StmtKind {
    S_MODEL,            /* model NAME */
    S_INPUT,            /* input NAME: [N, C, H, W] */
    S_OUTPUT,           /* output NAME [= expr] */
    S_BLOCK,            /* block NAME(params) { body } */
    S_IMPORT,           /* from "file" import NAME, ... */
    S_ASSIGN,           /* NAME = expr */
    S_FOR,              /* for NAME in lo..hi { body } */
    S_IF,               /* if cond { body } else { body } */
    S_RETURN,           /* return expr */
} StmtKind;

/* A parameter of a block. */
typedef struct Param {
    char *name;         /* parameter name */
    Loc loc;            /* the name */
    char *type;         /* "tensor", "int", "float", "string", "bool", "pair" */
    Loc type_loc;       /* the type name */
    struct Expr *def;   /* default value, or NULL if required */
} Param;

typedef struct Stmt {
    StmtKind kind;      /* what it is */
    Loc loc;            /* its keyword, or the assigned name */
    char *name;         /* model, input, output, block, assigned or loop variable */
    Loc name_loc;       /* the name */
    Expr *value;        /* S_OUTPUT (NULL: the variable of the same name), S_ASSIGN, S_RETURN; S_IF: condition; S_FOR: lower bound */
    Expr *hi;           /* S_FOR: upper bound (exclusive) */
    PtrVec *body;       /* S_BLOCK, S_FOR, S_IF: Stmt* */
    PtrVec *els;        /* S_IF: Stmt* of the else branch, or NULL */
    PtrVec *list;       /* S_INPUT: Expr* dims; S_BLOCK: Param*; S_IMPORT: Expr* (E_NAME) */
    char *path;         /* S_IMPORT: file as written */
    Loc end_loc;        /* S_BLOCK: the closing brace */
} Stmt;

/* One parsed file. */
typedef struct Program {
    const Source *src;  /* the text it was parsed from */
    PtrVec items;       /* Stmt*, top-level statements in order */
} Program;

/* ------------------------------------------------------------------ parser state */

/* Everything the reentrant scanner and the pure parser share; no globals. */
typedef struct Parser {
    const Source *src;  /* being parsed */
    Diag *d;            /* where errors go */
    Program *prog;      /* the result */
    int line, col;      /* scanner position of the next byte (1-based) */
    bool eof_nl;        /* the scanner has sent the newline that ends the last line */
    Loc braces[64];     /* open '{' tokens, innermost last */
    int nbraces;        /* how many are open */
    int lex_error_line; /* last line with a lexical error: no syntax errors there */
    bool too_deep;      /* an expression deeper than MAX_EXPR_DEPTH was reported */
} Parser;

/* ------------------------------------------------------------------ ast.c */

Expr *ast_int(Loc loc, int64_t v);
Expr *ast_float(Loc loc, double v);
Expr *ast_bool(Loc loc, bool v);
/* raw is the text between the quotes; splits "{name}" parts, reports bad escapes. */
Expr *ast_string(Parser *p, Loc loc, const char *raw);
Expr *ast_name(Loc loc, char *name);
/* These report an expression nested deeper than MAX_EXPR_DEPTH. */
Expr *ast_call(Parser *p, Loc loc, char *name, PtrVec *args);
Expr *ast_pair(Parser *p, Loc loc, Expr *a, Expr *b);
Expr *ast_binary(Parser *p, Loc loc, BinOp op, Expr *a, Expr *b);
Expr *ast_unary(Parser *p, Loc loc, BinOp op, Expr *a);
Arg *ast_arg(Loc name_loc, char *name, Expr *value);
Param *ast_param(Loc loc, char *name, Loc type_loc, char *type, Expr *def);

Stmt *ast_stmt(StmtKind kind, Loc loc);
Stmt *ast_model(Loc loc, Loc name_loc, char *name);
Stmt *ast_input(Loc loc, Loc name_loc, char *name, PtrVec *dims);
Stmt *ast_output(Loc loc, Loc name_loc, char *name, Expr *value);
Stmt *ast_block(Loc loc, Loc name_loc, char *name, PtrVec *params, PtrVec *body, Loc end);
Stmt *ast_import(Loc loc, char *path, PtrVec *names);
Stmt *ast_assign(Loc loc, char *name, Expr *value);
Stmt *ast_for(Loc loc, Loc name_loc, char *name, Expr *lo, Expr *hi, PtrVec *body);
Stmt *ast_if(Loc loc, Expr *cond, PtrVec *then, PtrVec *els);
Stmt *ast_return(Loc loc, Expr *value);

/* Appends item to list; ast_list(NULL, x) starts a list, ast_list(NULL, NULL) an empty one. */
PtrVec *ast_list(PtrVec *list, void *item);

void expr_free(Expr *e);
void stmt_free(Stmt *s);
void arg_free(Arg *a);
void param_free(Param *p);
void exprs_free(PtrVec *v);
void stmts_free(PtrVec *v);
void args_free(PtrVec *v);
void params_free(PtrVec *v);
void program_free(Program *p);

const char *binop_str(BinOp op);
/* An AST dump in one line per statement, for tests: "assign h = call relu(name x)". */
void program_print(FILE *f, const Program *p);

/* ------------------------------------------------------------------ parser.y */

/* Parses src; NULL if there were syntax errors (all reported through d). */
Program *parse_program(const Source *src, Diag *d);

#endif
