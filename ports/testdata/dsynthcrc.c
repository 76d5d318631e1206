/*
 * dsynthcrc: compute a port directory's CRC the way dsynth's crcDirTree
 * (usr.bin/dsynth/subs.c) does, independently of go-dsynth, for the ports
 * tests: fts_open(FTS_PHYSICAL | FTS_NOCHDIR) over the directory; for each
 * FTS_F or FTS_SL entry whose name does not start with '.' and does not
 * end in ".core", iscsi_crc32(&st_mtime, sizeof st_mtime), continued with
 * iscsi_crc32_ext over st_size and then over fts_path (fts_pathlen bytes);
 * XOR all of them.  The CRC-32C here is the plain bitwise one (reflected
 * polynomial 0x82F63B78), not a table.
 *
 * usage: dsynthcrc DIR     prints the CRC as %08x
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <fts.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t
crc32c_ext(const void *buf, size_t len, uint32_t ocrc)
{
	const unsigned char *p = buf;
	uint32_t crc = ~ocrc;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

int
main(int argc, char **argv)
{
	char *pav[2];
	FTS *fts;
	FTSENT *fen;
	uint32_t crc = 0, val;
	int64_t mtime, size;

	if (argc != 2) {
		fprintf(stderr, "usage: dsynthcrc dir\n");
		return 2;
	}
	pav[0] = argv[1];
	pav[1] = NULL;
	fts = fts_open(pav, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (fts == NULL) {
		perror("fts_open");
		return 1;
	}
	while ((fen = fts_read(fts)) != NULL) {
		if (fen->fts_info != FTS_F && fen->fts_info != FTS_SL)
			continue;
		if (fen->fts_name[0] == '.')
			continue;
		if (fen->fts_namelen >= 5 &&
		    strcmp(fen->fts_name + fen->fts_namelen - 5, ".core") == 0)
			continue;
		/* 64-bit time_t and off_t, as on DragonFly and FreeBSD amd64. */
		mtime = (int64_t)fen->fts_statp->st_mtime;
		size = (int64_t)fen->fts_statp->st_size;
		val = crc32c_ext(&mtime, sizeof(mtime), 0);
		val = crc32c_ext(&size, sizeof(size), val);
		val = crc32c_ext(fen->fts_path, fen->fts_pathlen, val);
		crc ^= val;
	}
	fts_close(fts);
	printf("%08x\n", crc);
	return 0;
}
