/*
 * test_frontend.c — the model description language: scanner (tokens and
 * locations), parser (tree shape, error recovery), elaboration (blocks,
 * loops, ifs, interpolation, limits) and shape inference through it.
 */
#include "testutil.h"

#include "ast.h"
#include "frontend.h"
#include "parser.h"
#include "lexer.h"

/* ------------------------------------------------------------------ scanner */

typedef struct Tok {
    int kind;           /* token number from parser.h */
    int line, col, len; /* where */
    char text[32];      /* identifier or string contents, or the number */
} Tok;

/* Scans text into toks[]; returns how many (the end is not stored). */
static int
scan(const char *text, Tok *toks, int max, TestDiag *td)
{
    Source *src = source_from_string("t.vise", text);
    Parser p = {.src = src, .d = &td->d, .line = 1, .col = 1};
    yyscan_t sc;
    ck_assert_int_eq(yylex_init_extra(&p, &sc), 0);
    YY_BUFFER_STATE b = yy_scan_bytes(src->text, (int)src->len, sc);
    int n = 0;
    for (;;) {
        YYSTYPE v;
        YYLTYPE l;
        int k = yylex(&v, &l, sc);
        if (k == 0)
            break;
        ck_assert_int_lt(n, max);
        Tok *t = &toks[n++];
        *t = (Tok){k, l.first_line, l.first_column, l.last_column - l.first_column, ""};
        if (k == IDENT || k == STRING) {
            snprintf(t->text, sizeof t->text, "%s", v.str);
            free(v.str);
        } else if (k == INT) {
            snprintf(t->text, sizeof t->text, "%lld", (long long)v.ival);
        } else if (k == FLOAT) {
            snprintf(t->text, sizeof t->text, "%g", v.fval);
        }
    }
    yy_delete_buffer(b, sc);
    yylex_destroy(sc);
    source_free(src);
    return n;
}

/* scan() of text that must give no diagnostics. */
static int
scan_clean(const char *text, Tok *toks, int max)
{
    TestDiag td;
    td_init(&td);
    int n = scan(text, toks, max, &td);
    ck_assert_str_eq(td_text(&td), "");
    td_free(&td);
    return n;
}

#define TOK(i, k, l, c, n)                      \
    do {                                        \
        ck_assert_int_eq(t[i].kind, (k));       \
        ck_assert_int_eq(t[i].line, (l));       \
        ck_assert_int_eq(t[i].col, (c));        \
        ck_assert_int_eq(t[i].len, (n));        \
    } while (0)

START_TEST(lex_tokens_and_locations)
{
    Tok t[64];
    int n = scan_clean("model m  # name\n  h = conv2d(x, \"{p}.c\", k=(3, 1))\n", t, 64);
    ck_assert_int_eq(n, 20);
    TOK(0, MODEL, 1, 1, 5);
    TOK(1, IDENT, 1, 7, 1);
    ck_assert_str_eq(t[1].text, "m");
    TOK(2, NL, 1, 16, 1);           /* the comment is skipped */
    TOK(3, IDENT, 2, 3, 1);
    TOK(4, '=', 2, 5, 1);
    TOK(5, IDENT, 2, 7, 6);
    TOK(6, '(', 2, 13, 1);
    TOK(7, IDENT, 2, 14, 1);
    TOK(8, ',', 2, 15, 1);
    TOK(9, STRING, 2, 17, 7);
    ck_assert_str_eq(t[9].text, "{p}.c");
    TOK(12, '=', 2, 27, 1);
    TOK(13, '(', 2, 28, 1);
    TOK(14, INT, 2, 29, 1);
    ck_assert_str_eq(t[14].text, "3");
    TOK(17, ')', 2, 33, 1);
    TOK(18, ')', 2, 34, 1);
    TOK(19, NL, 2, 35, 1);
}
END_TEST

START_TEST(lex_numbers_and_operators)
{
    Tok t[64];
    int n = scan_clean("for i in 1..n*4 {\n e = 1e-5 + 0.5 >= 2 != 3 <= 4 == 5\n}", t, 64);
    int want[] = {FOR, IDENT, IN, INT, DOTDOT, IDENT, '*', INT, '{', NL, IDENT, '=', FLOAT,
                  '+', FLOAT, GE, INT, NE, INT, LE, INT, EQ, INT, NL, '}', NL};
    ck_assert_int_eq(n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(t[i].kind, want[i]);
    TOK(4, DOTDOT, 1, 11, 2);
    ck_assert_str_eq(t[12].text, "1e-05");
    TOK(25, NL, 3, 2, 1);           /* the last line gets its newline */
}
END_TEST

START_TEST(lex_errors_go_on)
{
    TestDiag td;
    td_init(&td);
    Tok t[64];
    int n = scan("a $ b\nc = 12ab \"open\nd = 99999999999999999999\n", t, 64, &td);
    ck_assert_int_eq(td.d.nerrors, 4);
    ck_assert_ptr_nonnull(strstr(td_text(&td), "t.vise:1:3: error: unexpected character '$'"));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "t.vise:2:5: error: bad number '12ab'"));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "t.vise:2:10: error: unterminated string"));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "t.vise:3:5: error: integer 99999999999999999999 is too large"));
    /* a, b, NL, c, =, INT, STRING, NL, d, =, INT, NL */
    ck_assert_int_eq(n, 12);
    TOK(1, IDENT, 1, 5, 1);
    td_free(&td);
}
END_TEST

Suite *suite_lexer(void)
{
    return suite_of("lexer", tcase_of("core", 0, TESTS(lex_tokens_and_locations,
                                      lex_numbers_and_operators, lex_errors_go_on)));
}

/* ------------------------------------------------------------------ parser */

/* Parses text and returns its dump (malloc'd), or NULL on errors. */
static char *
parse_dump(const char *text, TestDiag *td)
{
    Source *src = source_from_string("t.vise", text);
    Program *p = parse_program(src, &td->d);
    char *buf = NULL;
    size_t len = 0;
    if (p) {
        FILE *f = open_memstream(&buf, &len);
        program_print(f, p);
        fclose(f);
        program_free(p);
    }
    source_free(src);
    return buf;
}

START_TEST(parse_statements)
{
    TestDiag td;
    td_init(&td);
    char *s = parse_dump("model m\n"
                         "input x: [N, 3,\n   8, 8]\n"
                         "from \"lib.vise\" import a, b\n"
                         "block f(x: tensor, n: int = 2,) {\n"
                         "    for i in 0..n { x = relu(x) }\n"
                         "    if n > 1 and not false {\n        return x\n    } else if n == 0 {\n"
                         "        return add(x, x)\n    } else {\n        return x\n    }\n"
                         "}\n"
                         "h = conv2d(x, \"{p}.c{i}\",\n    out=2*(3+4), kernel=(1, 7))\n"
                         "output y = h\n"
                         "output h\n",
                         &td);
    ck_assert_str_eq(td_text(&td), "");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s,
                     "1:1 model m\n"
                     "2:1 input x [N, 3, 8, 8]\n"
                     "4:6 from \"lib.vise\" import a, b\n"
                     "5:1 block f(x: tensor, n: int = 2)\n"
                     "  6:5 for i in 0..n\n"
                     "    6:21 x = relu(x)\n"
                     "  7:5 if ((n > 1) and (not false))\n"
                     "    8:9 return x\n"
                     "  else\n"
                     "    9:12 if (n == 0)\n"
                     "      10:9 return add(x, x)\n"
                     "    else\n"
                     "      12:9 return x\n"
                     "15:1 h = conv2d(x, \"{p}.c{i}\", out=(2 * (3 + 4)), kernel=(1, 7))\n"
                     "17:1 output y = h\n"
                     "18:1 output h\n");
    free(s);
    td_free(&td);
}
END_TEST

START_TEST(parse_precedence)
{
    TestDiag td;
    td_init(&td);
    char *s = parse_dump("a = 1 + 2 * 3 - -4 / 2 % 5\nb = 1 < 2 or 3 == 4 and true\n", &td);
    ck_assert_str_eq(td_text(&td), "");
    ck_assert_str_eq(s, "1:1 a = ((1 + (2 * 3)) - (((-4) / 2) % 5))\n"
                        "2:1 b = ((1 < 2) or ((3 == 4) and true))\n");
    free(s);
    td_free(&td);
}
END_TEST

START_TEST(parse_recovers)
{
    TestDiag td;
    td_init(&td);
    char *s = parse_dump("model m\n"
                         "h = relu(x\n"
                         "block b(x tensor) {\n"
                         "    return x )\n"
                         "}\n"
                         "g = = 3\n"
                         "for i 0..3 {\n"
                         "}\n",
                         &td);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(td.d.nerrors, 5);
    const char *out = td_text(&td);
    ck_assert_ptr_nonnull(strstr(out, "t.vise:2:11: error: expected ')' or ',' at end of line\n"));
    ck_assert_ptr_nonnull(strstr(out, "t.vise:3:11: error: expected ':' before 'tensor'\n"));
    ck_assert_ptr_nonnull(strstr(out, "t.vise:4:14: error: expected end of line or '}' before ')'\n"));
    ck_assert_ptr_nonnull(strstr(out, "t.vise:6:5: error: expected an expression before '='\n"));
    ck_assert_ptr_nonnull(strstr(out, "t.vise:7:7: error: expected 'in' before '0'\n"));
    td_free(&td);
}
END_TEST

START_TEST(parse_string_parts)
{
    TestDiag td;
    td_init(&td);
    Source *src = source_from_string("t.vise", "s = \"a{{b}}\\\"{p}.{i}x\"\n");
    Program *p = parse_program(src, &td.d);
    ck_assert_ptr_nonnull(p);
    Stmt *st = p->items.v[0];
    Expr *e = st->value;
    ck_assert_int_eq(e->kind, E_STRING);
    ck_assert_int_eq(e->nparts, 5);
    ck_assert_str_eq(e->parts[0].text, "a{b}\"");
    ck_assert(!e->parts[0].is_name);
    ck_assert_str_eq(e->parts[1].text, "p");
    ck_assert(e->parts[1].is_name);
    ck_assert_int_eq(e->parts[1].loc.col, 15);
    ck_assert_str_eq(e->parts[2].text, ".");
    ck_assert_str_eq(e->parts[3].text, "i");
    ck_assert_int_eq(e->parts[3].loc.col, 19);
    ck_assert_str_eq(e->parts[4].text, "x");
    program_free(p);
    source_free(src);
    td_free(&td);
}
END_TEST

Suite *suite_parser(void)
{
    return suite_of("parser", tcase_of("core", 0, TESTS(parse_statements, parse_precedence,
                                       parse_recovers, parse_string_parts)));
}

/* ------------------------------------------------------------------ elaboration */

typedef struct Loaded {
    TestDiag td;
    Source *src;
    Graph *g;
} Loaded;

static void
load(Loaded *l, const char *text)
{
    td_init(&l->td);
    l->g = frontend_load_string("t.vise", text, &l->td.d, &l->src);
}

static void
unload(Loaded *l)
{
    graph_free(l->g);
    source_free(l->src);
    td_free(&l->td);
}

static const char *
out_shape(const Graph *g, int i, char *buf)
{
    return shape_str(((Value *)g->outputs.v[i])->shape, buf, SHAPE_STRLEN);
}

START_TEST(elab_loops_and_interpolation)
{
    Loaded l;
    load(&l, "model m\n"
             "input x: [N, 4, 8, 8]\n"
             "block unit(x: tensor, p: string) {\n"
             "    return relu(batchnorm(conv2d(x, \"{p}.conv\", out=4, kernel=3, pad=1), \"{p}.bn\"))\n"
             "}\n"
             "h = x\n"
             "for i in 0..3 {\n"
             "    for j in i..2 {\n"
             "        h = unit(h, \"s{i}.{j}\")\n"
             "    }\n"
             "}\n"
             "output y = h\n");
    ck_assert_str_eq(td_text(&l.td), "");
    ck_assert_ptr_nonnull(l.g);
    ck_assert_str_eq(l.g->name, "m");
    /* (0,0) (0,1) (1,1): three units of three ops */
    ck_assert_int_eq(l.g->nodes.n, 9);
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "s0.0.conv.weight"));
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "s0.1.bn.running_var"));
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "s1.1.conv.weight"));
    ck_assert_ptr_null(graph_find_tensor(l.g, "s1.0.conv.weight"));
    Node *n = GRAPH_NODE(l.g, 0);
    ck_assert_int_eq(n->loc.line, 4);
    ck_assert_int_eq(n->loc.col, 27);
    ck_assert_str_eq(n->trace, "unit (line 9)");
    unload(&l);
}
END_TEST

START_TEST(elab_nested_trace_and_defaults)
{
    Loaded l;
    load(&l, "model m\n"
             "input x: [N, 8, 16, 16]\n"
             "block inner(x: tensor, s: int = 1, act: bool = true) {\n"
             "    if act { return relu(x) } else { return x }\n"
             "}\n"
             "block outer(x: tensor, n: int) {\n"
             "    h = inner(x)\n"
             "    h = inner(h, act=n > 2)\n"
             "    return h\n"
             "}\n"
             "output y = outer(x, 1)\n");
    ck_assert_str_eq(td_text(&l.td), "");
    ck_assert_int_eq(l.g->nodes.n, 1);
    ck_assert_str_eq(GRAPH_NODE(l.g, 0)->trace, "inner (line 7) < outer (line 11)");
    unload(&l);
}
END_TEST

/* The shapes of a small ResNet-style model follow PyTorch's rules. */
START_TEST(elab_shapes)
{
    Loaded l;
    load(&l, "model m\n"
             "input x: [N, 3, 224, 224]\n"
             "h = conv2d(x, \"c1\", out=64, kernel=7, stride=2, pad=3)\n"
             "output a = h\n"
             "h = maxpool(h, kernel=3, stride=2, pad=1)\n"
             "output b = h\n"
             "output c = maxpool(h, kernel=3, ceil_mode=true)\n"
             "output d = avgpool(h, kernel=(2, 4))\n"
             "output e = conv2d(h, \"c2\", out=32, kernel=(1, 7), pad=(0, 3), dilation=2, groups=32, bias=true)\n"
             "output f = linear(flatten(global_avgpool(h)), \"fc\", out=10, bias=true)\n"
             "output g = batchnorm(h, \"bn\", eps=0.001)\n");
    ck_assert_str_eq(td_text(&l.td), "");
    char b[SHAPE_STRLEN];
    ck_assert_str_eq(out_shape(l.g, 0, b), "[N, 64, 112, 112]");
    ck_assert_str_eq(out_shape(l.g, 1, b), "[N, 64, 56, 56]");
    ck_assert_str_eq(out_shape(l.g, 2, b), "[N, 64, 19, 19]");     /* ceil(53/3)+1 */
    ck_assert_str_eq(out_shape(l.g, 3, b), "[N, 64, 28, 14]");     /* stride = kernel */
    ck_assert_str_eq(out_shape(l.g, 4, b), "[N, 32, 56, 50]");     /* 56 + 2*3 - 2*6 */
    ck_assert_str_eq(out_shape(l.g, 5, b), "[N, 10]");
    ck_assert_str_eq(out_shape(l.g, 6, b), "[N, 64, 56, 56]");
    Tensor *w = graph_find_tensor(l.g, "c2.weight");
    ck_assert_str_eq(shape_str(w->shape, b, sizeof b), "[32, 2, 1, 7]");
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "c2.bias"));
    ck_assert_ptr_null(graph_find_tensor(l.g, "c1.bias"));
    w = graph_find_tensor(l.g, "fc.weight");
    ck_assert_str_eq(shape_str(w->shape, b, sizeof b), "[10, 64]");
    Node *bn = ((Value *)l.g->outputs.v[6])->def;
    ck_assert(bn->a.eps == 0.001);
    unload(&l);
}
END_TEST

START_TEST(elab_arithmetic)
{
    Loaded l;
    load(&l, "model m\n"
             "input x: [N, 2, 8, 8]\n"
             "a = 7 / 2 * 3 + 10 % 4 - -1\n"      /* 9 + 2 + 1 = 12 */
             "b = 2 * (3 + 4)\n"                    /* 14 */
             "output y = conv2d(x, \"c{a}_{b}\", out=a + b, kernel=a - 11)\n");
    ck_assert_str_eq(td_text(&l.td), "");
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "c12_14.weight"));
    char buf[SHAPE_STRLEN];
    ck_assert_str_eq(out_shape(l.g, 0, buf), "[N, 26, 8, 8]");
    unload(&l);
}
END_TEST

START_TEST(elab_errors_keep_going)
{
    Loaded l;
    load(&l, "model m\n"
             "input x: [N, 64, 56, 56]\n"
             "a = conv2d(x, \"a\", out=256, kernel=1)\n"
             "b = conv2d(x, \"b\", out=512, kernel=1, stride=2)\n"
             "c = add(a, b)\n"
             "d = relu(c)\n"            /* no second message: c is already an error */
             "e = relu(nothing)\n"
             "output y = d\n");
    ck_assert_ptr_null(l.g);
    ck_assert_int_eq(l.td.d.nerrors, 2);
    ck_assert_str_eq(td_text(&l.td),
                     "t.vise:5:5: error: add: shapes [N, 256, 56, 56] and [N, 512, 28, 28] differ\n"
                     "  c = add(a, b)\n"
                     "      ^~~\n"
                     "t.vise:7:10: error: undefined name 'nothing'\n"
                     "  e = relu(nothing)\n"
                     "           ^~~~~~~\n");
    unload(&l);
}
END_TEST

/* Runaway descriptions end in an error, not a hang. */
START_TEST(elab_limits)
{
    Loaded l;
    load(&l, "model m\ninput x: [N, 2, 4, 4]\nh = x\n"
             "for i in 0..10000 {\n  for j in 0..10000 {\n    k = i * j\n  }\n}\noutput y = h\n");
    ck_assert_ptr_null(l.g);
    ck_assert_ptr_nonnull(strstr(td_text(&l.td), "error: elaboration stopped after 1000000 steps"));
    unload(&l);

    load(&l, "model m\ninput x: [N, 2, 4, 4]\nh = x\n"
             "for i in 0..101 {\n  for j in 0..100 {\n    h = relu(h)\n  }\n}\noutput y = h\n");
    ck_assert_ptr_null(l.g);
    ck_assert_ptr_nonnull(strstr(td_text(&l.td), "t.vise:6:9: error: the model has more than 10000 ops"));
    unload(&l);

    load(&l, "model m\ninput x: [N, 2, 4, 4]\np = \"ab\"\n"
             "for i in 0..20 {\n  p = \"{p}{p}\"\n}\noutput y = x\n");
    ck_assert_ptr_null(l.g);
    ck_assert_ptr_nonnull(strstr(td_text(&l.td), "t.vise:5:7: error: string is longer than 1024 bytes"));
    unload(&l);

    load(&l, "model m\ninput x: [N, 2, 4, 4]\n"
             "block a(x: tensor) {\n  return a(x)\n}\noutput y = a(x)\n");
    ck_assert_ptr_null(l.g);
    ck_assert_ptr_nonnull(strstr(td_text(&l.td),
                                 "t.vise:4:10: error: block 'a' calls itself (a -> a); blocks cannot be recursive"));
    unload(&l);

    load(&l, "model m\ninput x: [N, 2, 4, 4]\nk = 9223372036854775807\nk = k + 1\noutput y = x\n");
    ck_assert_ptr_null(l.g);
    ck_assert_ptr_nonnull(strstr(td_text(&l.td), "t.vise:4:7: error: integer overflow"));
    unload(&l);

    load(&l, "model m\ninput x: [N, 16777216, 16777216, 4]\noutput y = x\n");
    ck_assert_ptr_null(l.g);
    ck_assert_ptr_nonnull(strstr(td_text(&l.td), "error: input 'x' is too large"));
    unload(&l);
}
END_TEST

START_TEST(elab_empty_and_garbage)
{
    static const char *const bad[] = {
        "", "\n\n", "model", "}", "{", "((((((", "model m\ninput x: [N, 3, 4, 4]\noutput y = x x\n",
        "block", "block b(", "\"", "for i in 0..3 {", "if", "output", "model m\ninput x: [N]\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Loaded l;
        load(&l, bad[i]);
        ck_assert_msg(l.g == NULL, "accepted: %s", bad[i]);
        ck_assert_int_gt(l.td.d.nerrors, 0);
        ck_assert_ptr_nonnull(strstr(td_text(&l.td), "t.vise:"));
        unload(&l);
    }
}
END_TEST

START_TEST(elab_import)
{
    char dir[] = "/tmp/visec_fe_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *lib = xprintf("%s/lib.vise", dir);
    FILE *f = fopen(lib, "w");
    fputs("# a library: only its blocks are used by importers\n"
          "block unit(x: tensor, p: string) {\n    return relu(conv2d(x, \"{p}\", out=4))\n}\n"
          "block pair(x: tensor) {\n    return unit(unit(x, \"a\"), \"b\")\n}\n"
          "output never = undefined_here\n",
          f);
    fclose(f);
    char *path = xprintf("%s/main.vise", dir);
    Loaded l;
    td_init(&l.td);
    l.g = frontend_load_string(path, "model m\ninput x: [N, 2, 4, 4]\nfrom \"lib.vise\" import pair\noutput y = pair(x)\n",
                               &l.td.d, &l.src);
    ck_assert_str_eq(td_text(&l.td), "");
    ck_assert_ptr_nonnull(l.g);
    ck_assert_int_eq(l.g->nodes.n, 4);
    ck_assert_str_eq(GRAPH_NODE(l.g, 0)->trace, "unit (lib.vise:6) < pair (line 4)");
    ck_assert_str_eq(GRAPH_NODE(l.g, 0)->loc.src->path, lib);
    unload(&l);

    /* A block not imported is not visible. */
    td_init(&l.td);
    l.g = frontend_load_string(path, "model m\ninput x: [N, 2, 4, 4]\nfrom \"lib.vise\" import pair\noutput y = unit(x, \"u\")\n",
                               &l.td.d, &l.src);
    ck_assert_ptr_null(l.g);
    ck_assert_ptr_nonnull(strstr(td_text(&l.td), "error: undefined block or op 'unit'"));
    unload(&l);

    /* A file importing itself. */
    f = fopen(path, "w");
    fputs("from \"main.vise\" import b\nblock b(x: tensor) {\n    return x\n}\n", f);
    fclose(f);
    td_init(&l.td);
    l.g = frontend_load(path, &l.td.d, &l.src);
    ck_assert_ptr_null(l.g);
    ck_assert_ptr_nonnull(strstr(td_text(&l.td), "imports itself"));
    unload(&l);

    remove(path);
    remove(lib);
    remove(dir);
    free(path);
    free(lib);
}
END_TEST

START_TEST(elab_examples)
{
    Loaded l;
    td_init(&l.td);
    l.g = frontend_load("examples/vise_resnet50.vise", &l.td.d, &l.src);
    ck_assert_str_eq(td_text(&l.td), "");
    ck_assert_ptr_nonnull(l.g);
    GraphStats s = graph_stats(l.g);
    ck_assert_int_eq(s.count[OP_CONV2D], 53);
    ck_assert_int_eq(s.count[OP_BATCHNORM], 53);
    ck_assert_int_eq(s.count[OP_RELU], 49);
    ck_assert_int_eq(s.count[OP_ADD], 16);
    ck_assert_int_eq(s.count[OP_MAXPOOL], 1);
    ck_assert_int_eq(s.params, 23508032);
    ck_assert_int_eq(s.macs, INT64_C(4087136256));
    char b[SHAPE_STRLEN];
    ck_assert_str_eq(out_shape(l.g, 0, b), "[N, 2048, 7, 7]");
    /* torchvision v1.5: the stride is on conv2 and on the downsample. */
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "4.0.downsample.0.weight"));
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "7.2.bn3.running_var"));
    for (int i = 0; i < l.g->nodes.n; i++) {
        Node *n = GRAPH_NODE(l.g, i);
        if (n->op != OP_CONV2D)
            continue;
        bool strided = n->a.sh == 2;
        bool want = strcmp(n->prefix, "0") == 0 || strcmp(n->prefix, "5.0.conv2") == 0 ||
                    strcmp(n->prefix, "6.0.conv2") == 0 || strcmp(n->prefix, "7.0.conv2") == 0 ||
                    strcmp(n->prefix, "5.0.downsample.0") == 0 ||
                    strcmp(n->prefix, "6.0.downsample.0") == 0 ||
                    strcmp(n->prefix, "7.0.downsample.0") == 0;
        ck_assert_msg(strided == want, "%s stride %d", n->prefix, n->a.sh);
        if (strcmp(n->prefix, "5.1.conv2") == 0)
            ck_assert_str_eq(n->trace, "bottleneck (line 28) < layer (line 38)");
    }
    graph_verify(l.g, "frontend");
    unload(&l);

    td_init(&l.td);
    l.g = frontend_load("examples/resnet50.vise", &l.td.d, &l.src);
    ck_assert_str_eq(td_text(&l.td), "");
    s = graph_stats(l.g);
    ck_assert_int_eq(s.params, 25557032);
    ck_assert_str_eq(out_shape(l.g, 0, b), "[N, 1000]");
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "layer3.5.bn2.weight"));
    ck_assert_ptr_nonnull(graph_find_tensor(l.g, "fc.bias"));
    unload(&l);
}
END_TEST

Suite *suite_elab(void)
{
    return suite_of("elab", tcase_of("core", 60, TESTS(elab_loops_and_interpolation,
                                     elab_nested_trace_and_defaults, elab_shapes, elab_arithmetic,
                                     elab_errors_keep_going, elab_limits, elab_empty_and_garbage,
                                     elab_import, elab_examples)));
}
