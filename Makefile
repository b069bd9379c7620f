# stockade — a plain GNU Makefile.  `make help` lists the targets.
#
# Layout: src/<part>/*.c (one folder per part of docs/DESIGN), the parts'
# APIs in include/stockade/<part>.h, unit tests tests/test_*.c (check),
# integration tests integration/*.bats, benchmarks bench/.
# Files are picked up by wildcard: adding a .c file needs no edit here.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
DATADIR   ?= $(PREFIX)/share/stockade
LIBEXECDIR ?= $(PREFIX)/lib/stockade
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR   ?=
BUILD     ?= build

CC        ?= cc
PKGS      := libseccomp libcap libnl-3.0 libnl-route-3.0 libsodium jansson zlib nettle libhs

# Debian packages the build, the tests and the benchmarks need (make deps).
DEB_DEPS  := build-essential pkg-config libseccomp-dev libcap-dev \
             libnl-3-dev libnl-route-3-dev libsodium-dev libjansson-dev zlib1g-dev nettle-dev \
             libvectorscan-dev check bats bubblewrap firejail util-linux \
             iproute2 python3 perl git hyperfine busybox clang libclang-rt-14-dev nodejs chromium \
             debhelper dpkg-dev fakeroot lintian systemd xxd bsdextrautils

# Lazily evaluated so that `make deps` works before pkg-config can answer.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
# The libraries are linked statically (libc, libm stay shared) unless
# STATIC_DEPS=0: every `stockade run` starts a fresh process, and loading and
# relocating eight shared objects (Vectorscan and libstdc++ the biggest) cost
# 16% of the spawn on this machine (hyperfine, 39.2 against 46.8 ms).  The
# price: a security update of one of them needs a rebuild of stockade.
# The stockade binary links Vectorscan's runtime only (RT_LIBS, no
# compiler, no libstdc++); stockade-rulec compiles for it on a cold cache
# (src/redact/compile_exec.c).
PKGS_RT   := $(filter-out libhs,$(PKGS))
STATIC_DEPS ?= 1
ifeq ($(STATIC_DEPS),1)
PKG_LIBS   = -Wl,-Bstatic $(filter-out -lpthread,$(shell pkg-config --static --libs-only-l $(PKGS))) -lstdc++ \
             -Wl,-Bdynamic $(shell pkg-config --libs-only-L $(PKGS)) -lm -pthread
RT_LIBS    = -Wl,-Bstatic $(filter-out -lpthread,$(shell pkg-config --static --libs-only-l $(PKGS_RT))) -lhs_runtime \
             -Wl,-Bdynamic $(shell pkg-config --libs-only-L $(PKGS)) -lm -pthread
else
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
RT_LIBS    = $(shell pkg-config --libs $(PKGS_RT)) -lhs_runtime -lm
endif
CHECK_LIBS = $(shell pkg-config --libs check)

OPT       ?= -O2
HARDEN    := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
             -fcf-protection -fPIE
WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CPPFLAGS  += -Iinclude -D_GNU_SOURCE -DSTOCKADE_VERSION='"$(VERSION)"' \
             -DSTOCKADE_DATADIR='"$(DATADIR)"' -DSTOCKADE_SYSCONFDIR='"$(SYSCONFDIR)"' \
             -DSTOCKADE_LIBEXECDIR='"$(LIBEXECDIR)"'
SAN       ?=
CFLAGS    += -std=gnu11 $(OPT) -g $(WARN) $(HARDEN) $(SAN) -MMD -MP
LDFLAGS   += -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed $(SAN)

LIB_PARTS := util policy session sandbox redact audit
# Not in the library: the compile helper's main, and the stockade binary's
# rx_patterns_compile that runs it (the library's runs the compiler).
RULEC_SRC := src/redact/rulec_main.c
EXEC_SRC  := src/redact/compile_exec.c
LIB_SRC   := $(filter-out $(RULEC_SRC) $(EXEC_SRC),$(foreach p,$(LIB_PARTS),$(sort $(wildcard src/$(p)/*.c))))
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
DMN_SRC   := $(sort $(wildcard src/daemon/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TEST_HELPERS := $(sort $(wildcard tests/helpers/*.c))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
RULEC_OBJ := $(RULEC_SRC:%.c=$(BUILD)/%.o)
EXEC_OBJ  := $(EXEC_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
DMN_OBJ   := $(DMN_SRC:%.c=$(BUILD)/%.o)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HELPER_BIN := $(TEST_HELPERS:tests/helpers/%.c=$(BUILD)/helpers/%)
LIB       := $(BUILD)/libstockade.a
CLI_LIB   := $(BUILD)/libstockade-cli.a

# The daemon shares the cli's request/run code but not its main().
CLI_SHARED_OBJ := $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ))

BINS      := $(BUILD)/stockade $(BUILD)/stockade-rulec $(if $(DMN_SRC),$(BUILD)/stockaded)

.PHONY: all deps test unit integration asan bench demo fuzz install uninstall clean help deb

all: $(BINS) $(HELPER_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/stockade: $(CLI_OBJ) $(EXEC_OBJ) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(EXEC_OBJ) $(LIB) $(RT_LIBS)

$(BUILD)/stockade-rulec: $(RULEC_OBJ) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(BUILD)/stockaded: $(DMN_OBJ) $(CLI_SHARED_OBJ) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(DMN_OBJ) $(CLI_SHARED_OBJ) $(LIB) $(PKG_LIBS)

# Tests link archives, so a test pulls in only the objects it uses.
$(CLI_LIB): $(CLI_SHARED_OBJ)
	@mkdir -p $(@D)
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(CLI_LIB) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_LIB) $(LIB) $(PKG_LIBS) $(CHECK_LIBS)

# Small static programs the integration tests run inside the sandbox
# (attack probes: ptrace, io_uring, keyctl, TIOCSTI, ...).
$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

deps:
	@sh tests/deps.sh $(DEB_DEPS)

test: deps all $(TEST_BIN)
	@BUILD=$(BUILD) sh tests/run-all.sh

unit: all $(TEST_BIN)
	@BUILD=$(BUILD) ONLY=unit sh tests/run-all.sh

integration: all
	@BUILD=$(BUILD) ONLY=integration sh tests/run-all.sh

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer
# (the daemon's load test with 20 clients, not 200: see daemon.bats).
asan: deps
	STOCKADE_TEST_CLIENTS=20 $(MAKE) BUILD=build-asan OPT=-O1 HARDEN="-fPIE" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" test

bench: deps all
	@BUILD=$(BUILD) sh bench/run.sh

demo: deps all
	@BUILD=$(BUILD) sh integration/demo.sh

fuzz: deps
	@BUILD=$(BUILD)-fuzz sh tests/fuzz.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSCONFDIR)/stockade/profiles \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/stockade $(DESTDIR)$(BINDIR)/stockade
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(BUILD)/stockade-rulec $(DESTDIR)$(LIBEXECDIR)/stockade-rulec
	$(if $(DMN_SRC),install -d $(DESTDIR)$(SBINDIR) && install -m 0755 $(BUILD)/stockaded $(DESTDIR)$(SBINDIR)/stockaded)
	for f in profiles/*; do [ -f "$$f" ] && case $$f in *.rules) ;; *) install -m 0644 "$$f" $(DESTDIR)$(SYSCONFDIR)/stockade/profiles/ ;; esac || true; done
	for f in profiles/*.rules; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(DATADIR)/ || true; done
	for f in docs/*.1; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(MANDIR)/man1/ || true; done
	for f in docs/*.5; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(MANDIR)/man5/ || true; done
	for f in docs/*.8; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(MANDIR)/man8/ || true; done

# stockade_$(VERSION)_<arch>.deb in $(BUILD)/deb/, built by dpkg-buildpackage
# from a copy of the tree (packaging/build-deb.sh; DEB_BUILD_OPTIONS applies).
deb:
	@sh packaging/build-deb.sh $(BUILD)/deb $(VERSION)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/stockade $(DESTDIR)$(SBINDIR)/stockaded $(DESTDIR)$(LIBEXECDIR)/stockade-rulec

clean:
	rm -rf build build-*

help:
	@echo "make deps         install the Debian packages needed (root), or print the apt-get line"
	@echo "make / make all   build $(BUILD)/stockade (STATIC_DEPS=0: shared libraries)"
	@echo "make demo         set up, build, and run a real command in the sandbox"
	@echo "make test         unit + integration tests, as root and as nobody"
	@echo "make asan         the tests under ASan+UBSan (build-asan/)"
	@echo "make bench        spawn latency and more, side by side with bubblewrap and firejail"
	@echo "make fuzz         fuzz targets for a bounded time"
	@echo "make install      install under PREFIX=$(PREFIX)"
	@echo "make deb          the Debian package in $(BUILD)/deb/ (dpkg-buildpackage)"

-include $(LIB_OBJ:.o=.d) $(RULEC_OBJ:.o=.d) $(EXEC_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(DMN_OBJ:.o=.d) $(TEST_BIN:=.d)
.SECONDARY:
