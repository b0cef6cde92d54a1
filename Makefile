# One non-recursive Makefile. Sources are discovered by directory:
#   libgguf/*.c          -> build/libgguf.a, build/libgguf.so   (the public library)
#   quant/ convert/ verify/ tools/cli*.c -> build/libggufcore.a (internal modules)
#   tools/gguf-*.c       -> build/bin/gguf-*                    (one main() per binary)
#   tests/test_*.c       -> build/tests/test_*                  (unit tests, run by tests/run.sh)
#   tests/cli/test_*.sh                                         (CLI tests, run by tests/run.sh)
#   tests/fuzz/fuzz_*.c  -> build/fuzz/fuzz_*                   (libFuzzer harnesses, `make fuzz`)
# SAN=1 builds everything under build-san/ with ASan+UBSan.
# Targets: all demo test test-gpu fuzz fuzz-run bench install clean help

PREFIX   ?= /usr/local
CC       ?= cc
NATIVE   ?= 1
SAN      ?= 0
WERROR   ?= -Werror

ifeq ($(SAN),1)
BUILD    ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      ?= -O1 -g
else
BUILD    ?= build
SANFLAGS :=
OPT      ?= -O3 -g
endif

ifeq ($(NATIVE),1)
ARCH := -march=native
endif

# --- feature detection (said out loud once per make invocation) --------------------------
HAVE_OPENMP := $(shell printf 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo 1 || echo 0)
NVCC        := $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
ifeq ($(HAVE_OPENMP),1)
OMPFLAGS := -fopenmp
$(info gguf-tools: OpenMP found (-fopenmp))
else
OMPFLAGS :=
$(info gguf-tools: OpenMP not found, building single-threaded)
endif
ifneq ($(NVCC),)
$(info gguf-tools: nvcc found at $(NVCC): CUDA backend is built when verify/*.cu exists)
else
$(info gguf-tools: nvcc not found: building without the CUDA backend)
endif

PKGS    := jansson libpcre2-8 libutf8proc libxxhash zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lpcre2-8 -lutf8proc -lxxhash -lz)

WARN     := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-format-truncation -Wstrict-prototypes -Wvla $(WERROR)
CPPFLAGS += -Ilibgguf -I. -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
CFLAGS   += -std=gnu11 $(OPT) $(ARCH) $(WARN) $(SANFLAGS) $(OMPFLAGS) $(PKG_CFLAGS) -fPIC
LDLIBS   += $(PKG_LIBS) -lm -lpthread
LDFLAGS  += $(SANFLAGS) $(OMPFLAGS)

# quantization code must do plain binary32 arithmetic in source order (FORMATS.md 0)
QUANT_CFLAGS := -ffp-contract=off

LIB_SRC   := $(wildcard libgguf/*.c)
CORE_SRC  := $(wildcard quant/*.c convert/*.c verify/*.c tools/cli*.c)
TOOL_SRC  := $(wildcard tools/gguf-*.c)
TEST_SRC  := $(wildcard tests/test_*.c)
TESTH_SRC := $(wildcard tests/th_*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
CU_SRC    := $(wildcard verify/*.cu)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
TESTH_OBJ := $(TESTH_SRC:%.c=$(BUILD)/obj/%.o)
TOOLS     := $(TOOL_SRC:tools/%.c=$(BUILD)/bin/%)
TEST_BINS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

ifneq ($(NVCC),)
ifneq ($(CU_SRC),)
CU_OBJ    := $(CU_SRC:%.cu=$(BUILD)/obj/%.cu.o)
CORE_OBJ  += $(CU_OBJ)
CPPFLAGS  += -DGGUF_HAVE_CUDA=1
CUDA_HOME := $(patsubst %/bin/nvcc,%,$(NVCC))
LDLIBS    += -L$(CUDA_HOME)/lib64 -lcudart -lcublas
NVCCFLAGS ?= -O3 -arch=sm_90 -Ilibgguf -I. -Xcompiler -fPIC
endif
endif

LIBA  := $(BUILD)/libgguf.a
LIBSO := $(BUILD)/libgguf.so
COREA := $(BUILD)/libggufcore.a

.PHONY: all demo test test-gpu fuzz fuzz-run bench install clean help
.SECONDARY:

all: $(LIBA) $(LIBSO) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/quant/%.o: quant/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(QUANT_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBSO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libgguf.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(COREA): $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(COREA) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(COREA) $(LIBA) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TESTH_OBJ) $(COREA) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TESTH_OBJ) $(COREA) $(LIBA) $(LDLIBS)

demo: all
	@BUILD=$(BUILD) sh tools/demo.sh

test: all $(TEST_BINS)
	@BUILD=$(BUILD) SAN=$(SAN) sh tests/run.sh

test-gpu: all $(TEST_BINS)
	@BUILD=$(BUILD) GGUF_TEST_GPU=1 sh tests/run.sh

# --- fuzzing (clang libFuzzer) ----------------------------------------------------------
FUZZ_CC    ?= clang
FUZZ_FLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -ffp-contract=off \
              $(CPPFLAGS) $(PKG_CFLAGS)
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 20
# the forward pass (verify/ except the tokenizer) is not fuzzed and uses _Float16, which clang 14 lacks
FUZZ_LINK_SRC := $(LIB_SRC) $(filter-out verify/%,$(CORE_SRC)) $(wildcard verify/tokenizer*.c)

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(CORE_SRC) libgguf/gguf.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LINK_SRC) $(LDLIBS)

fuzz: $(FUZZ_BINS)

fuzz-run: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus-$$n tests/fuzz/seeds/$${n#fuzz_} \
	    2>build/fuzz/$$n.log || { tail -40 build/fuzz/$$n.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' build/fuzz/$$n.log | tail -2; done

bench: all
	@BUILD=$(BUILD) sh bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	           $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/libgguf.so.0
	ln -sf libgguf.so.0 $(DESTDIR)$(PREFIX)/lib/libgguf.so
	install -m 644 libgguf/gguf.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' libgguf/gguf.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gguf.pc
	for m in man/*.1; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for m in man/*.3; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man3/; done; true

clean:
	rm -rf build build-san

help:
	@echo "make            build libgguf and the tools into $(BUILD)/"
	@echo "make demo       the main job end to end on the small built-in model (synth, convert, quantize, split, inspect, verify)"
	@echo "make test       build and run every test (SAN=1: under ASan+UBSan)"
	@echo "make test-gpu   also run the GPU tests"
	@echo "make fuzz       build the libFuzzer harnesses; make fuzz-run FUZZ_SECONDS=N runs each"
	@echo "make bench      run the benchmarks (ratios against baselines measured in the same run)"
	@echo "make install PREFIX=/usr/local"

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
