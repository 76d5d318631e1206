# Forwarder to the framework file of the same name in ${PORTSDIR}/Mk.
# PORTSDIR defaults to the tree holding this directory.
_TESTPORTS_SYSDIR:=	${.PARSEDIR}
PORTSDIR?=	${_TESTPORTS_SYSDIR:H:H}
.include "${PORTSDIR}/Mk/bsd.port.pre.mk"
