# bsd.port.mk -- the small ports framework of the go-dsynth test tree.
#
# Written for go-dsynth's end-to-end tests; it implements the targets dsynth
# runs in a worker and the variables its scanner reads with "make -V".  It is
# not FreeBSD's framework, only a small work-alike.  See ../README.md.
#
# Phase targets (dsynth order):
#   check-sanity pkg-depends fetch-depends fetch checksum extract-depends
#   extract patch-depends patch build-depends lib-depends configure build
#   run-depends stage check-plist package install deinstall
# plus clean, makesum, describe, all (= build) and test (no-op).
#
# Site variables (dsynth's worker make.conf, or the command line):
#   PORTSDIR DISTDIR WRKDIRPREFIX PACKAGES LOCALBASE PREFIX PKG_DBDIR
#   PORT_DBDIR MAKE_JOBS_NUMBER NO_DEPENDS USE_PACKAGE_DEPENDS_ONLY
#   DEVELOPER (stage also runs the check-plist test)
#   PACKAGE_BUILDING (a port with NO_PACKAGE is then IGNOREd)
#   BATCH (accepted; nothing in this tree is interactive)
#   FETCH_DIR (where "fetch" copies distfiles from; ${PORTSDIR}/distfiles-src)
#
# Each phase runs the phases before it that have not run yet (cookies in
# ${WRKDIR}).  A port may define pre-<phase>, do-<phase> and post-<phase>
# targets for fetch, extract, patch, configure, build, install (stage) and
# package.

.if !defined(_TESTPORTS_PORT_MK)
_TESTPORTS_PORT_MK=	yes

.include "${PORTSDIR}/Mk/bsd.port.options.mk"

# ---- site settings (dsynth's worker make.conf sets most of these) --------
LOCALBASE?=	/usr/local
PREFIX?=	${LOCALBASE}
DISTDIR?=	${PORTSDIR}/distfiles
PACKAGES?=	${PORTSDIR}/packages
PKG_DBDIR?=	/var/db/pkg
WRKDIRPREFIX?=
# Where "fetch" finds the distfiles this tree ships.
FETCH_DIR?=	${PORTSDIR}/distfiles-src
PKG_SUFX=	.pkg
PKG_BIN?=	${LOCALBASE}/sbin/pkg
ECHO_MSG?=	echo
SH?=		/bin/sh
TAR?=		tar
PATCH?=		patch
_SCRIPTS=	${PORTSDIR}/Mk/Scripts

# ---- reproducible packages ---------------------------------------------
# SOURCE_DATE_EPOCH pins every time a build records (the package's member
# times, and what compilers and tools that honour it write): the port's
# distinfo TIMESTAMP, or a fixed date for a port without distfiles.  The
# environment's value wins.
.if !defined(SOURCE_DATE_EPOCH)
SOURCE_DATE_EPOCH!=	sed -n 's/^TIMESTAMP = \([0-9][0-9]*\)$$/\1/p' ${.CURDIR}/distinfo 2>/dev/null | head -n 1
.  if empty(SOURCE_DATE_EPOCH)
SOURCE_DATE_EPOCH=	1700000000
.  endif
.endif
.export SOURCE_DATE_EPOCH

# Programs of installed ports are found by the dependency checks and by
# the ports' own build steps, as in a sandbox where LOCALBASE is /usr/local.
.if empty(PATH:M*${LOCALBASE}/bin*)
PATH:=		${LOCALBASE}/sbin:${LOCALBASE}/bin:${PATH}
.export PATH
.endif

# ---- USES ----------------------------------------------------------------
_KNOWN_USES=	metaport cc localbase tar
_USES_NAMES=	${USES:C/:.*//}
.for _u in ${_USES_NAMES}
.  if empty(_KNOWN_USES:M${_u})
_USES_ERROR+=	${_u}
.  endif
.endfor
.if !empty(USES:Mtar\:xz)
EXTRACT_SUFX?=	.tar.xz
.elif !empty(USES:Mtar\:bz2)
EXTRACT_SUFX?=	.tar.bz2
.elif !empty(USES:Mtar*)
EXTRACT_SUFX?=	.tar
.endif
.if !empty(_USES_NAMES:Mmetaport)
DISTFILES=
NO_BUILD=	yes
NO_INSTALL=	yes
.endif

# ---- flavor-specific settings --------------------------------------------
.if !empty(FLAVOR) && empty(_FLAVOR_ERROR)
.  for _v in PKGNAMEPREFIX PKGNAMESUFFIX COMMENT
.    if defined(${FLAVOR}_${_v})
${_v}=	${${FLAVOR}_${_v}}
.    endif
.  endfor
.  for _v in FETCH_DEPENDS EXTRACT_DEPENDS PATCH_DEPENDS BUILD_DEPENDS \
	LIB_DEPENDS RUN_DEPENDS CFLAGS CPPFLAGS LDFLAGS MAKE_ARGS MAKE_ENV \
	PLIST_FILES USES
.    if defined(${FLAVOR}_${_v})
${_v}+=	${${FLAVOR}_${_v}}
.    endif
.  endfor
.endif

# ---- option helpers ------------------------------------------------------
.for _o in ${_ALL_OPTIONS}
.  if !empty(PORT_OPTIONS:M${_o})
PLIST_SUB+=	${_o}="" NO_${_o}="@comment "
.    for _v in FETCH_DEPENDS EXTRACT_DEPENDS PATCH_DEPENDS BUILD_DEPENDS \
	LIB_DEPENDS RUN_DEPENDS CFLAGS CPPFLAGS LDFLAGS MAKE_ARGS MAKE_ENV \
	CONFIGURE_ARGS PLIST_FILES EXTRA_PATCHES
.      if defined(${_o}_${_v})
${_v}+=	${${_o}_${_v}}
.      endif
.    endfor
.    if defined(${_o}_CONFIGURE_ENABLE)
CONFIGURE_ARGS+=	--enable-${${_o}_CONFIGURE_ENABLE}
.    endif
.  else
PLIST_SUB+=	${_o}="@comment " NO_${_o}=""
.    if defined(${_o}_CONFIGURE_ENABLE)
CONFIGURE_ARGS+=	--disable-${${_o}_CONFIGURE_ENABLE}
.    endif
.    if defined(${_o}_CONFIGURE_OFF)
CONFIGURE_ARGS+=	${${_o}_CONFIGURE_OFF}
.    endif
.  endif
.endfor

# ---- names and versions --------------------------------------------------
DISTVERSION?=	${PORTVERSION}
PORTVERSION?=	${DISTVERSION}
PORTREVISION?=	0
PORTEPOCH?=	0
.if ${PORTREVISION} != 0
_SUF_REVISION=	_${PORTREVISION}
.endif
.if ${PORTEPOCH} != 0
_SUF_EPOCH=	,${PORTEPOCH}
.endif
PKGVERSION=	${PORTVERSION}${_SUF_REVISION}${_SUF_EPOCH}
PKGBASE=	${PKGNAMEPREFIX}${PORTNAME}${PKGNAMESUFFIX}
PKGNAME=	${PKGBASE}-${PKGVERSION}
PKGORIGIN?=	${.CURDIR:H:T}/${.CURDIR:T}
MAINTAINER?=	ports@go-dsynth.invalid
WWW?=

PKGREPOSITORY?=	${PACKAGES}/All
PKGFILE?=	${PKGREPOSITORY}/${PKGNAME}${PKG_SUFX}

# ---- distfiles -----------------------------------------------------------
DISTNAME?=	${PORTNAME}-${DISTVERSION}
EXTRACT_SUFX?=	.tar.gz
DISTFILES?=	${DISTNAME}${EXTRACT_SUFX}
EXTRACT_ONLY?=	${DISTFILES}
PATCHFILES?=
.if empty(PATCHFILES)
ALLFILES?=	${DISTFILES}
.else
ALLFILES?=	${DISTFILES} ${PATCHFILES}
.endif
DIST_SUBDIR?=
_DISTDIR=	${DISTDIR}${DIST_SUBDIR:S/^/\//}
MASTER_SITES?=	file://${FETCH_DIR}/
FETCH_CMD?=	${SH} ${_SCRIPTS}/fetch.sh
DISTINFO_FILE?=	${.CURDIR}/distinfo

EXTRACT_CMD?=		${TAR}
EXTRACT_BEFORE_ARGS?=	-xzf
EXTRACT_AFTER_ARGS?=

# ---- directories ---------------------------------------------------------
.if !empty(FLAVOR)
WRKDIR?=	${WRKDIRPREFIX}${.CURDIR}/work-${FLAVOR}
.else
WRKDIR?=	${WRKDIRPREFIX}${.CURDIR}/work
.endif
WRKSRC?=	${WRKDIR}/${DISTNAME}
STAGEDIR?=	${WRKDIR}/stage
WRKDIR_PKGFILE=	${WRKDIR}/pkg/${PKGNAME}${PKG_SUFX}
PATCHDIR?=	${.CURDIR}/files
FILESDIR?=	${.CURDIR}/files
PLIST?=		${.CURDIR}/pkg-plist
DESCR?=		${.CURDIR}/pkg-descr
DOCSDIR?=	${PREFIX}/share/doc/${PORTNAME}
DATADIR?=	${PREFIX}/share/${PORTNAME}
EXAMPLESDIR?=	${PREFIX}/share/examples/${PORTNAME}

_COOKIE_EXTRACT=	${WRKDIR}/.extract_done
_COOKIE_PATCH=		${WRKDIR}/.patch_done
_COOKIE_CONFIGURE=	${WRKDIR}/.configure_done
_COOKIE_BUILD=		${WRKDIR}/.build_done
_COOKIE_STAGE=		${WRKDIR}/.stage_done
_COOKIE_PACKAGE=	${WRKDIR}/.package_done
_COOKIE_INSTALL=	${WRKDIR}/.install_done

# ---- jobs ----------------------------------------------------------------
.if defined(MAKE_JOBS_UNSAFE) || defined(DISABLE_MAKE_JOBS)
MAKE_JOBS_NUMBER=	1
.elif !defined(MAKE_JOBS_NUMBER)
MAKE_JOBS_NUMBER!=	nproc 2>/dev/null || echo 1
.endif

# ---- compiling -----------------------------------------------------------
CC?=		cc
CFLAGS?=	-O2 -pipe
CPPFLAGS+=	-I${LOCALBASE}/include
LDFLAGS+=	-L${LOCALBASE}/lib -Wl,-rpath,${LOCALBASE}/lib
MAKE_CMD?=	${MAKE}
ALL_TARGET?=	all
INSTALL_TARGET?=	install
MAKE_ENV+=	CC="${CC}" CFLAGS="${CFLAGS}" CPPFLAGS="${CPPFLAGS}" \
		LDFLAGS="${LDFLAGS}" PREFIX="${PREFIX}" LOCALBASE="${LOCALBASE}"
_MAKE_VARS=	CC="${CC}" CFLAGS="${CFLAGS}" CPPFLAGS="${CPPFLAGS}" \
		LDFLAGS="${LDFLAGS}" PREFIX="${PREFIX}" LOCALBASE="${LOCALBASE}"
CONFIGURE_SCRIPT?=	configure
CONFIGURE_ARGS+=	--prefix=${PREFIX} --localbase=${LOCALBASE}
CONFIGURE_ENV+=		${MAKE_ENV}

# ---- plist ---------------------------------------------------------------
PLIST_SUB+=	PREFIX="${PREFIX}" LOCALBASE="${LOCALBASE}" \
		PORTNAME="${PORTNAME}" PORTVERSION="${PORTVERSION}" \
		DISTVERSION="${DISTVERSION}" \
		DOCSDIR="${DOCSDIR:S,^${PREFIX}/,,}" \
		DATADIR="${DATADIR:S,^${PREFIX}/,,}" \
		EXAMPLESDIR="${EXAMPLESDIR:S,^${PREFIX}/,,}"
_PLIST_SED=	${PLIST_SUB:C/^([^=]*)=(.*)$/-e s!%%\1%%!\2!g/}
_TMPPLIST=	${WRKDIR}/.PLIST.mktmp

# ---- IGNORE --------------------------------------------------------------
.if !empty(_FLAVOR_ERROR)
IGNORE=		${_FLAVOR_ERROR}
.elif !empty(_USES_ERROR)
IGNORE=		uses unknown USES: ${_USES_ERROR}
.elif empty(PORTNAME) || empty(PORTVERSION)
IGNORE=		has no PORTNAME or PORTVERSION
.elif defined(NO_PACKAGE) && defined(PACKAGE_BUILDING)
IGNORE=		may not be packaged: ${NO_PACKAGE}
.endif

.if defined(IGNORE) && !empty(IGNORE)
_IGNORE_MSG=	${ECHO_MSG} "===>  ${PKGNAME} is marked as IGNORE: ${IGNORE}." >&2; exit 1
.else
_IGNORE_MSG=	:
.endif

# The environment the helper scripts need.
_SCRIPT_ENV=	PORTSDIR="${PORTSDIR}" LOCALBASE="${LOCALBASE}" \
		PKG_BIN="${PKG_BIN}" PKG_DBDIR="${PKG_DBDIR}" MAKE="${MAKE}" \
		PACKAGES="${PACKAGES}" PKGNAME="${PKGNAME}" \
		USE_PACKAGE_DEPENDS_ONLY="${USE_PACKAGE_DEPENDS_ONLY}" \
		DEPENDS_TARGET="${DEPENDS_TARGET:Uinstall}"

.MAIN:		all
.NOTPARALLEL:
.PHONY:		all test clean makesum describe check-sanity pkg-depends \
		fetch-depends fetch checksum extract-depends extract \
		patch-depends patch build-depends lib-depends configure build \
		run-depends stage check-plist package install deinstall

all: build
test:

# ---- check-sanity --------------------------------------------------------
check-sanity:
	@${_IGNORE_MSG}
	@if [ -z "${COMMENT}" ]; then \
		${ECHO_MSG} "===>  ${PKGNAME}: COMMENT is empty" >&2; exit 1; fi
	@if [ ! -f "${DESCR}" ]; then \
		${ECHO_MSG} "===>  ${PKGNAME}: ${DESCR} is missing" >&2; exit 1; fi
	@${ECHO_MSG} "===>  License check disabled, port ${PKGNAME} is sane"

# ---- dependency checks ---------------------------------------------------
.if defined(NO_DEPENDS)
pkg-depends fetch-depends extract-depends patch-depends build-depends \
lib-depends run-depends:
	@${_IGNORE_MSG}
.else
pkg-depends:
	@${_IGNORE_MSG}
.  if !defined(PKG_BOOTSTRAP)
	@${_SCRIPT_ENV} ${SH} ${_SCRIPTS}/depends.sh PKG \
		"${PKG_BIN}:ports-mgmt/pkg"
.  endif
.  for _k in FETCH EXTRACT PATCH BUILD LIB RUN
${_k:tl}-depends:
	@${_IGNORE_MSG}
	@${_SCRIPT_ENV} ${SH} ${_SCRIPTS}/depends.sh ${_k} ${${_k}_DEPENDS}
.  endfor
.endif

# ---- default do-* targets ------------------------------------------------
.for _p in fetch extract patch configure build install package
.  if !target(pre-${_p})
pre-${_p}:
.  endif
.  if !target(post-${_p})
post-${_p}:
.  endif
.endfor

.if !target(do-fetch)
do-fetch:
	@${_SCRIPT_ENV} ${SH} ${_SCRIPTS}/do-fetch.sh "${_DISTDIR}" \
		"${MASTER_SITES}" "${FETCH_CMD}" ${ALLFILES}
.endif

.if !target(do-extract)
do-extract:
.  for _f in ${EXTRACT_ONLY}
	@cd ${WRKDIR} && ${EXTRACT_CMD} ${EXTRACT_BEFORE_ARGS} \
		${_DISTDIR}/${_f} ${EXTRACT_AFTER_ARGS}
.  endfor
.endif

.if !target(do-patch)
do-patch:
	@set -e; for p in ${PATCHFILES:S,^,${_DISTDIR}/,} ${PATCHDIR}/patch-* \
		${EXTRA_PATCHES}; do \
		[ -f "$$p" ] || continue; \
		${ECHO_MSG} "===>  Applying patch $${p##*/}"; \
		${PATCH} -p0 -N -E -s --no-backup-if-mismatch \
			-d ${WRKSRC} -i "$$p"; \
	done
.endif

.if !target(do-configure)
do-configure:
.  if defined(HAS_CONFIGURE)
	@cd ${WRKSRC} && env ${CONFIGURE_ENV} ${SH} ./${CONFIGURE_SCRIPT} \
		${CONFIGURE_ARGS}
.  endif
.endif

.if !target(do-build)
do-build:
.  if !defined(NO_BUILD)
	@cd ${WRKSRC} && env ${MAKE_ENV} ${MAKE_CMD} -j${MAKE_JOBS_NUMBER} \
		${_MAKE_VARS} ${MAKE_ARGS} ${ALL_TARGET}
.  endif
.endif

.if !target(do-install)
do-install:
.  if !defined(NO_INSTALL)
	@cd ${WRKSRC} && env ${MAKE_ENV} ${MAKE_CMD} ${_MAKE_VARS} \
		${MAKE_ARGS} DESTDIR=${STAGEDIR} ${INSTALL_TARGET}
.  endif
.endif

# ---- phases --------------------------------------------------------------
fetch: check-sanity fetch-depends pre-fetch do-fetch post-fetch

checksum: fetch
	@${_IGNORE_MSG}
	@${SH} ${_SCRIPTS}/checksum.sh "${DISTINFO_FILE}" "${DISTDIR}" \
		"${DIST_SUBDIR}" ${ALLFILES}

.if exists(${_COOKIE_EXTRACT})
extract:
.else
extract: checksum extract-depends _extract-start pre-extract do-extract \
	post-extract
	@touch ${_COOKIE_EXTRACT}
_extract-start:
	@${ECHO_MSG} "===>  Extracting for ${PKGNAME}"
	@rm -rf ${WRKDIR} && mkdir -p ${WRKDIR}
.endif

.if exists(${_COOKIE_PATCH})
patch:
.else
patch: extract patch-depends pre-patch do-patch post-patch
	@touch ${_COOKIE_PATCH}
.endif

.if exists(${_COOKIE_CONFIGURE})
configure:
.else
configure: patch build-depends lib-depends _configure-start pre-configure \
	do-configure post-configure
	@touch ${_COOKIE_CONFIGURE}
_configure-start:
	@${ECHO_MSG} "===>  Configuring for ${PKGNAME}"
.endif

.if exists(${_COOKIE_BUILD})
build:
.else
build: configure _build-start pre-build do-build post-build
	@touch ${_COOKIE_BUILD}
_build-start:
	@${ECHO_MSG} "===>  Building for ${PKGNAME}"
.endif

.if exists(${_COOKIE_STAGE})
stage:
.else
stage: build run-depends _stage-start pre-install do-install post-install \
	_stage-plist
.  if defined(DEVELOPER)
	@${SH} ${_SCRIPTS}/check-plist.sh "${STAGEDIR}" "${PREFIX}" \
		"${_TMPPLIST}"
.  endif
	@touch ${_COOKIE_STAGE}
_stage-start:
	@${ECHO_MSG} "===>  Staging for ${PKGNAME}"
	@rm -rf ${STAGEDIR} && mkdir -p ${STAGEDIR}${PREFIX}
.endif

_stage-plist:
	@${ECHO_MSG} "====> Generating temporary packing list"
	@{ for f in ${PLIST_FILES}; do echo "$$f"; done; \
	   if [ -f ${PLIST} ]; then cat ${PLIST}; fi; } | \
		sed ${_PLIST_SED} > ${_TMPPLIST}

check-plist: stage
	@${ECHO_MSG} "====> Checking for pkg-plist issues (check-plist)"
	@${SH} ${_SCRIPTS}/check-plist.sh "${STAGEDIR}" "${PREFIX}" \
		"${_TMPPLIST}"

_MANIFEST_IN=	${WRKDIR}/.manifest.in
.if exists(${_COOKIE_PACKAGE})
package:
.else
package: stage pre-package _package-manifest do-package post-package
	@touch ${_COOKIE_PACKAGE}
.endif

_package-manifest:
	@${ECHO_MSG} "===>  Building package for ${PKGNAME}"
	@{ echo name: ${PKGBASE:Q}; echo version: ${PKGVERSION:Q}; \
	   echo origin: ${PKGORIGIN:Q}; echo flavor: ${FLAVOR:Q}; \
	   echo comment: ${COMMENT:Q}; echo maintainer: ${MAINTAINER:Q}; \
	   echo www: ${WWW:Q}; echo prefix: ${PREFIX:Q}; \
	   for o in ${SELECTED_OPTIONS}; do echo "option: $$o on"; done; \
	   for o in ${DESELECTED_OPTIONS}; do echo "option: $$o off"; done; \
	   ${_SCRIPT_ENV} ${SH} ${_SCRIPTS}/actual-deps.sh \
		${LIB_DEPENDS} ${RUN_DEPENDS}; \
	} > ${_MANIFEST_IN}

.if !target(do-package)
do-package:
	@mkdir -p ${WRKDIR}/pkg
	@PKG_DBDIR=${PKG_DBDIR} ${PKG_BIN} create -r ${STAGEDIR} \
		-m ${_MANIFEST_IN} -p ${_TMPPLIST} -o ${WRKDIR}/pkg
	@if [ -d ${PACKAGES} ] && [ -w ${PACKAGES} ]; then \
		mkdir -p ${PKGREPOSITORY} && \
		cp ${WRKDIR_PKGFILE} ${PKGFILE}.new && \
		mv ${PKGFILE}.new ${PKGFILE}; fi
	@${ECHO_MSG} "===>  Package ${WRKDIR_PKGFILE}"
.endif

.if exists(${_COOKIE_INSTALL})
install:
.else
install: package
	@${ECHO_MSG} "===>  Installing for ${PKGNAME}"
	@PKG_DBDIR=${PKG_DBDIR} ${PKG_BIN} add ${WRKDIR_PKGFILE}
	@touch ${_COOKIE_INSTALL}
.endif

deinstall:
	@${ECHO_MSG} "===>  Deinstalling for ${PKGBASE}"
	@if PKG_DBDIR=${PKG_DBDIR} ${PKG_BIN} info -e ${PKGBASE}; then \
		PKG_DBDIR=${PKG_DBDIR} ${PKG_BIN} delete -y ${PKGBASE}; \
	else ${ECHO_MSG} "===>  ${PKGBASE} not installed, skipping"; fi
	@rm -f ${_COOKIE_INSTALL}

clean:
	@rm -rf ${WRKDIR}

makesum:
	@${SH} ${_SCRIPTS}/makesum.sh "${DISTINFO_FILE}" "${FETCH_DIR}" \
		"${DIST_SUBDIR}" ${ALLFILES}

describe:
	@echo "${PKGNAME}|${.CURDIR}|${PREFIX}|${COMMENT}|${DESCR}|${MAINTAINER}|${CATEGORIES}|${BUILD_DEPENDS}|${RUN_DEPENDS}|${WWW}"

.endif # _TESTPORTS_PORT_MK
