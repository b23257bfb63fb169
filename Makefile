# SPDX-License-Identifier: GPL-3.0-or-later
# empdir-tui: a terminal client for the Employee Directory.
#
#   make                 build build/empdir-tui and the demo snapshot
#   make run             build and open the demo snapshot
#   make test            build with ASan+UBSan and run every test (tests/run)
#   make san             the sanitizer build only (build/san/)
#   make bench           the benchmarks (bench/run), results in BENCHMARKS.md
#   make install PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
VERSION := 0.1.0

PKGS := ncursesw readline libpq libcurl libcjson sqlite3 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Debian's readline.pc may not exist on older releases; fall back.
ifeq ($(findstring -lreadline,$(PKG_LIBS)),)
PKG_LIBS += -lreadline
endif

CC ?= cc
OPT ?= -O2
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wconversion -Wno-sign-conversion -Wstrict-prototypes -Wmissing-prototypes
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DNCURSES_WIDECHAR=1 -DEMPDIR_VERSION='"$(VERSION)"' \
	$(WARN) $(PKG_CFLAGS) -I. $(CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lm

# The sanitizer build lives in build/san/ so both can coexist.
# BUILD=dir moves every output (parallel work trees, CI caches).
BUILD ?= build
ifeq ($(SAN),1)
B := $(BUILD)/san
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
else
B := $(BUILD)
endif

LIB_SRCS := $(wildcard core/*.c api_client/*.c offline/*.c tui/*.c)
CLI_SRCS := $(wildcard cli/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(B)/obj/%.o)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tools/%.c=$(B)/%)

.PHONY: all run test san unit bench install uninstall clean man check-man

ifeq ($(SAN),1)
all: $(B)/empdir-tui $(TOOL_BINS) $(TEST_BINS)
else
all: $(B)/empdir-tui $(TOOL_BINS) $(TEST_BINS) build/demo.db
endif

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libempdir.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/empdir-tui: $(CLI_OBJS) $(B)/libempdir.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(B)/libempdir.a $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libempdir.a tests/unit/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libempdir.a $(LDLIBS)

$(B)/%: tools/%.c $(B)/libempdir.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libempdir.a $(LDLIBS)

# The demo snapshot: 10,000 generated employees, made at build time.
build/demo.db: build/empdir-gen
	rm -f $@.tmp
	build/empdir-gen --rows 10000 --seed 42 --out $@.tmp && mv $@.tmp $@

run: all
	$(B)/empdir-tui --offline build/demo.db

san:
	$(MAKE) --no-print-directory SAN=1 all

test: san all
	tests/run

bench:
	bench/run

man: man/empdir-tui.1
man/empdir-tui.1: man/empdir-tui.1.in $(B)/empdir-tui
	$(B)/empdir-tui --man-keys | sed -e '/@KEYS@/{r /dev/stdin' -e 'd}' man/empdir-tui.1.in > $@.tmp
	mv $@.tmp $@

install: $(B)/empdir-tui
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(B)/empdir-tui $(DESTDIR)$(BINDIR)/empdir-tui
	install -m 0644 man/empdir-tui.1 $(DESTDIR)$(MANDIR)/man1/empdir-tui.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/empdir-tui $(DESTDIR)$(MANDIR)/man1/empdir-tui.1

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
