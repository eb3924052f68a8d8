# visec — build, test and install.
#
#   make                 bin/visec
#   make test            every test, built with AddressSanitizer and UBSan
#   make bench           speed of the generated code against PyTorch
#   make halide-runtime  a Halide runtime for code made with --runtime halide
#   make bench-halide    the generated code on OpenMP against the Halide runtime
#   make demo-scale      examples/embed on a few hundred images with 2 MPI ranks,
#                        then examples/search over the shards
#   make install         PREFIX=/usr/local DESTDIR=  (visec, visec.1, bash completion, docs)
#
# Sources are picked up by directory; a new .c file needs no Makefile edit.

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
OPT     ?= -O2 -g
SAN     ?=

FLEX    ?= flex
BISON   ?= bison

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= $(OPT)
# One folder, one job; each is on the include path.  Floors, each including
# only from its own and those below: driver (the command line, loading a
# model, the tuner); compiler and codegen; frontend; ir and runtime.
SRC_DIRS := ir frontend/lang frontend/weights compiler/passes compiler/sched compiler/interp \
            codegen codegen/kernels runtime driver
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) $(SRC_DIRS:%=-I%) -I$(BUILD)/gen
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN      := -fsanitize=address,undefined
endif
LDLIBS  := -lnettle -lz -lm

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lpthread -lm)

LIB_SRC := $(filter-out driver/main.c,$(wildcard $(SRC_DIRS:%=%/*.c)))
HEADERS := $(wildcard $(SRC_DIRS:%=%/*.h))
GEN_SRC := $(BUILD)/gen/parser.c $(BUILD)/gen/lexer.c $(BUILD)/gen/sched_parser.c $(BUILD)/gen/sched_lexer.c
GEN_HDR := $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.h $(BUILD)/gen/sched_parser.h $(BUILD)/gen/sched_lexer.h
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(GEN_SRC:$(BUILD)/gen/%.c=$(BUILD)/obj/gen/%.o) \
           $(BUILD)/obj/gen/runtime_src.o $(BUILD)/obj/gen/runtime_templates.o
TEST_SRC := $(wildcard tests/unit/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)

ifeq ($(BUILD),build)
VISEC := bin/visec
else
VISEC := $(BUILD)/visec
endif

.PHONY: all test unit-tests bench demo deps demo-deps fuzz fuzz-build clean install uninstall halide-runtime \
        bench-halide demo-scale FORCE
all: $(VISEC)

# Installs missing Debian packages (a no-op when everything is there): the
# test set (PyTorch, clang, Check, graphviz...) or, for the demo, only what
# building visec and running the example needs.
deps:
	@bash tools/install-deps.sh test
demo-deps:
	@bash tools/install-deps.sh demo

$(VISEC): $(BUILD)/obj/driver/main.o $(BUILD)/libvisec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/libvisec.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Every object waits for the generated headers, so the parser's token
# definitions exist before anything that includes them compiles.
$(BUILD)/obj/%.o: %.c $(GEN_HDR) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(GEN_HDR) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-unused-function -Wno-sign-compare -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/gen/parser.c $(BUILD)/gen/parser.h &: frontend/lang/parser.y
	@mkdir -p $(dir $@)
	$(BISON) -Wall -Werror --defines=$(BUILD)/gen/parser.h -o $(BUILD)/gen/parser.c $<

$(BUILD)/gen/lexer.c $(BUILD)/gen/lexer.h &: frontend/lang/lexer.l $(BUILD)/gen/parser.h
	@mkdir -p $(dir $@)
	$(FLEX) --header-file=$(BUILD)/gen/lexer.h -o $(BUILD)/gen/lexer.c $<

# Schedule files: the same conventions, their own prefix.
$(BUILD)/gen/sched_parser.c $(BUILD)/gen/sched_parser.h &: compiler/sched/sched_parser.y
	@mkdir -p $(dir $@)
	$(BISON) -Wall -Werror --defines=$(BUILD)/gen/sched_parser.h -o $(BUILD)/gen/sched_parser.c $<

$(BUILD)/gen/sched_lexer.c $(BUILD)/gen/sched_lexer.h &: compiler/sched/sched_lexer.l $(BUILD)/gen/sched_parser.h
	@mkdir -p $(dir $@)
	$(FLEX) --header-file=$(BUILD)/gen/sched_lexer.h -o $(BUILD)/gen/sched_lexer.c $<

# The runtime that generated code carries, embedded in visec as strings
# (codegen pastes them in this order).
RUNTIME_PASTE := runtime/vx_crc32.h runtime/vx_crc32.c runtime/vx_runtime.h runtime/vx_alloc.c \
                 runtime/vx_weights.c
$(BUILD)/gen/runtime_src.c: $(RUNTIME_PASTE) tools/embed_sources.sh
	@mkdir -p $(dir $@)
	sh tools/embed_sources.sh runtime_source $(RUNTIME_PASTE) > $@.tmp && mv $@.tmp $@

# The templates of the API functions generated code defines (codegen fills
# them in: emit_template in codegen/emit.c).
RUNTIME_TEMPLATES := runtime/vx_api.c.in runtime/vx_halide.c.in
$(BUILD)/gen/runtime_templates.c: $(RUNTIME_TEMPLATES) tools/embed_sources.sh
	@mkdir -p $(dir $@)
	sh tools/embed_sources.sh runtime_template $(RUNTIME_TEMPLATES) > $@.tmp && mv $@.tmp $@

# Unit tests: every tests/unit/*.c defines one or more `Suite *suite_NAME(void)`;
# the runner is generated from those definitions.
# Regenerated on every run, replaced only when it changes (a removed test
# file must drop out of it too).
$(BUILD)/gen/suites.h: FORCE
	@mkdir -p $(dir $@)
	@sed -n 's/^Suite \*\(suite_[a-z0-9_]*\)(void)$$/SUITE(\1)/p' $(TEST_SRC) | sort > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c $(GEN_HDR) $(BUILD)/gen/suites.h $(HEADERS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/unit_tests: $(TEST_OBJ) $(BUILD)/libvisec.a
	$(CC) $(LDSAN) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

unit-tests: $(BUILD)/unit_tests $(VISEC)

# The whole suite runs on a sanitizer build of everything.
test: deps
	$(MAKE) BUILD=build/san SAN=1 OPT="-O1 -g" unit-tests
	$(MAKE) all
	tests/run.sh build/san

demo: demo-deps
	tools/demo.sh

demo-scale: deps
	tools/demo_scale.sh

bench: deps all
	tools/bench.sh

bench-halide: deps all halide-runtime
	tools/bench_halide.sh

# A standalone Halide runtime for the host (thread pool, allocator, error
# handler) for code compiled with --runtime halide, made by libHalide
# (Debian's libhalide14-0-dev), and Halide's RunGenMain.cpp compiled, to link
# with a generated NAME.registration.cpp into a run/benchmark tool.
CXX          ?= c++
HALIDE_INC   ?= /usr/include/halide14
HALIDE_TOOLS ?= /usr/src/halide14
HALIDE_LIBS  ?= -lHalide14
halide-runtime: $(BUILD)/halide/halide_runtime.o $(BUILD)/halide/RunGenMain.o

$(BUILD)/halide/halide_runtime.o: tools/halide_runtime.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O1 -I$(HALIDE_INC) $< -o $(BUILD)/halide/halide_runtime_gen $(HALIDE_LIBS)
	$(BUILD)/halide/halide_runtime_gen $@.tmp host && mv $@.tmp $@

$(BUILD)/halide/RunGenMain.o: $(HALIDE_TOOLS)/RunGenMain.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O2 -DHALIDE_NO_PNG -DHALIDE_NO_JPEG -I$(HALIDE_INC) -I$(HALIDE_TOOLS) -c $< -o $@

# Fuzzing (clang's libFuzzer, ASan and UBSan): the checkpoint readers, the
# model language, schedule files and the generated code's .weights loader,
# FUZZ_SECONDS each, seeded from the examples, tests and compiled models
# (tests/fuzz/run.sh).  The test suite runs every target briefly
# (tests/cli/fuzz_smoke.sh).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_checkpoint fuzz_model fuzz_weights fuzz_schedule
fuzz-build:
	$(MAKE) BUILD=build/fuzz CC=clang SAN=1 OPT="-O1 -g -fsanitize=fuzzer-no-link" build/fuzz/libvisec.a
	for t in $(FUZZ_TARGETS); do \
	    clang -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -fsanitize=fuzzer,address,undefined \
	        $(SRC_DIRS:%=-I%) tests/fuzz/$$t.c build/fuzz/libvisec.a -lnettle -lz -lm -o build/fuzz/$$t || exit 1; \
	done
fuzz: all fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS:fuzz_%=%)

clean:
	rm -rf build bin

# visec, its man page, bash completion and documentation.
install: $(VISEC)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/visec \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(VISEC) $(DESTDIR)$(PREFIX)/bin/visec
	install -m 644 docs/visec.1 $(DESTDIR)$(PREFIX)/share/man/man1/visec.1
	install -m 644 tools/visec.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/visec
	install -m 644 README.md docs/*.md docs/*.svg $(DESTDIR)$(PREFIX)/share/doc/visec/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/visec $(DESTDIR)$(PREFIX)/share/man/man1/visec.1
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/visec
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/visec
