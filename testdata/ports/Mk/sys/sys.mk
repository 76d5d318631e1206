# sys.mk -- system makefile for the go-dsynth test ports tree.
#
# Debian's bmake ships NetBSD's /usr/share/mk, which this tree must not use.
# Point MAKESYSPATH (or bmake -m) at this directory instead.  It gives the
# FreeBSD-like defaults the framework under ../ relies on.

unix=		We run Unix
.FreeBSD=	false

# Without this, "make -V FOO" prints the unexpanded value of FOO and
# "make -V PKGFILE:T" prints nothing useful.  dsynth's scanner needs both.
.MAKE.EXPAND_VARIABLES=	yes

MAKEFILE_PREFERENCE?=	BSDmakefile makefile Makefile
.MAKE.MAKEFILE_PREFERENCE=	${MAKEFILE_PREFERENCE}

.SUFFIXES:	.out .a .o .c .h .sh

AR?=		ar
ARFLAGS?=	rcs
RANLIB?=	ranlib
CC?=		cc
CFLAGS?=	-O2 -pipe
CPP?=		cpp
CXX?=		c++
CXXFLAGS?=	${CFLAGS}
CP?=		cp
ECHO?=		echo
INSTALL?=	install
LD?=		ld
LDFLAGS?=
MAKE?=		bmake
NM?=		nm
SHELL?=		/bin/sh
STRIPBIN?=	strip

# The per-machine configuration; dsynth writes /etc/make.conf in each
# sandbox.  Tests point __MAKE_CONF at a file of their own (or /dev/null).
__MAKE_CONF?=	/etc/make.conf
.if exists(${__MAKE_CONF})
.include "${__MAKE_CONF}"
.endif
