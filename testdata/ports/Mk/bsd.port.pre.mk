# Included by <bsd.port.pre.mk>.
.include "${PORTSDIR}/Mk/bsd.port.options.mk"
