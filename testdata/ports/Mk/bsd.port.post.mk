# Included by <bsd.port.post.mk>.
.include "${PORTSDIR}/Mk/bsd.port.mk"
