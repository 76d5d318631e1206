# bsd.port.options.mk -- flavors and options for the go-dsynth test ports.
#
# A port may include <bsd.port.options.mk> before testing ${FLAVOR} or
# ${PORT_OPTIONS} in its Makefile; <bsd.port.mk> includes this file itself
# when the port did not.
#
# Flavors: FLAVORS lists the flavors, the first being the default.  FLAVOR
# (environment or command line) selects one; an empty FLAVOR means the
# default.  An unknown flavor makes the port IGNOREd.
#
# Options: OPTIONS_DEFINE lists the options, OPTIONS_DEFAULT those on by
# default.  They are then changed, each level after the previous one, by
#   OPTIONS_SET / OPTIONS_UNSET            (make.conf, every port)
#   <cat>_<port>_SET / <cat>_<port>_UNSET  (make.conf, this port)
#   ${PORT_DBDIR}/<cat>_<port>/options     (OPTIONS_FILE_SET+= / _UNSET+=)
#   WITH= / WITHOUT=                       (command line)
# The result is PORT_OPTIONS, SELECTED_OPTIONS and DESELECTED_OPTIONS.

.if !defined(_TESTPORTS_OPTIONS_MK)
_TESTPORTS_OPTIONS_MK=	yes

# ---- flavors -------------------------------------------------------------
.if !empty(FLAVORS)
.  if empty(FLAVOR)
.MAKEFLAGS:	FLAVOR=${FLAVORS:[1]}
.  endif
.  if empty(FLAVORS:M${FLAVOR})
_FLAVOR_ERROR=	Unknown flavor '${FLAVOR}', possible flavors: ${FLAVORS}
.  endif
.elif !empty(FLAVOR)
_FLAVOR_ERROR=	FLAVOR=${FLAVOR} given but the port has no flavors
.endif

# ---- options -------------------------------------------------------------
OPTIONS_NAME?=	${.CURDIR:H:T}_${.CURDIR:T}
PORT_DBDIR?=	/var/db/ports
_ALL_OPTIONS:=	${OPTIONS_DEFINE:O:u}

.if !empty(_ALL_OPTIONS)
.  sinclude "${PORT_DBDIR}/${OPTIONS_NAME}/options"
.endif

_OPT_SEL:=	${OPTIONS_DEFAULT}
.for _lvl in OPTIONS ${OPTIONS_NAME} OPTIONS_FILE
_OPT_SEL:=	${_OPT_SEL} ${${_lvl}_SET}
.  for _o in ${${_lvl}_UNSET}
_OPT_SEL:=	${_OPT_SEL:N${_o}}
.  endfor
.endfor
_OPT_SEL:=	${_OPT_SEL} ${WITH}
.for _o in ${WITHOUT}
_OPT_SEL:=	${_OPT_SEL:N${_o}}
.endfor

PORT_OPTIONS:=
DESELECTED_OPTIONS:=
.for _o in ${_ALL_OPTIONS}
.  if !empty(_OPT_SEL:M${_o})
PORT_OPTIONS:=	${PORT_OPTIONS} ${_o}
.  else
DESELECTED_OPTIONS:=	${DESELECTED_OPTIONS} ${_o}
.  endif
.endfor
PORT_OPTIONS:=	${PORT_OPTIONS:O:u}
SELECTED_OPTIONS:=	${PORT_OPTIONS}
DESELECTED_OPTIONS:=	${DESELECTED_OPTIONS:O:u}

.endif # _TESTPORTS_OPTIONS_MK
