# config.mk - flags and paths for the Makefile.  Personal overrides go in
# config.local.mk (git-ignored), e.g. CC = clang.

# The version every binary reports (--version, logs).
VERSION	 = 0.9.0

CC	?= cc
MODE	?= release
B	 = build/$(MODE)

PKGS	 = libpq libcjson librabbitmq openssl libcurl libmicrohttpd libical
CHECK_PKGS = check

WARN	 = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wvla -Wno-format-nonliteral
HARDEN	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
DEFS	 = -D_GNU_SOURCE -DVR_VERSION='"$(VERSION)"'

CFLAGS_release	= -O2 -g $(HARDEN)
CFLAGS_cov	= -O0 -g --coverage -fprofile-update=atomic
CFLAGS_asan	= -O1 -g -fno-omit-frame-pointer \
		  -fsanitize=address,undefined -fno-sanitize-recover=undefined

LDFLAGS_release	= -pie -Wl,-z,relro,-z,now
LDFLAGS_cov	= --coverage
LDFLAGS_asan	= -fsanitize=address,undefined

PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS	:= $(shell pkg-config --cflags $(CHECK_PKGS) 2>/dev/null)
CHECK_LIBS	:= $(shell pkg-config --libs $(CHECK_PKGS) 2>/dev/null)

ALL_CFLAGS	= $(WARN) $(DEFS) $(CFLAGS_$(MODE)) -Ilib $(PKG_CFLAGS) \
		  $(CFLAGS) -MMD -MP
ALL_LDFLAGS	= $(LDFLAGS_$(MODE)) $(LDFLAGS)
LIBS		= -lfcgi -largon2 -lpthread -lm $(PKG_LIBS)
