# A tiny ports framework for go-dsynth's scanner tests: it defines only what
# a `make -V` scan reads.
PORTREVISION?=	0
.if !empty(FLAVORS) && empty(FLAVOR)
FLAVOR=	${FLAVORS:[1]}
.endif
.if !empty(FLAVOR)
PKGNAMESUFFIX?=	-${FLAVOR}
.endif
.if ${PORTREVISION} != 0
PKGVERSION=	${PORTVERSION}_${PORTREVISION}
.else
PKGVERSION=	${PORTVERSION}
.endif
PKGNAME=	${PKGNAMEPREFIX}${PORTNAME}${PKGNAMESUFFIX}-${PKGVERSION}
PKGFILE=	/packages/All/${PKGNAME}.pkg
DISTFILES?=	${PORTNAME}-${PORTVERSION}.tar.gz
ALLFILES=	${DISTFILES}
MAKE_JOBS_NUMBER?=	2
.if defined(USES) && ${USES:Mmetaport}
ALLFILES=
.endif
