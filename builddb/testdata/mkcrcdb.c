/*
 * mkcrcdb: write a dsynth-style ports_crc database through Berkeley DB
 * 1.85's ndbm interface (Debian's libdb1-compat), for builddb's tests.
 *
 * usage: mkcrcdb BASE < lines       (BASE without ".db"; lines "origin crc")
 *
 * The value is the CRC as a native 4-byte integer and the key the origin
 * without a terminating NUL, as dsynth stores them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libdb1-compat ships no header; these are db 1.85's ndbm declarations. */
typedef struct {
	char *dptr;
	int dsize;
} datum;
typedef struct __dbm DBM;
extern DBM *dbm_open(const char *, int, int);
extern int dbm_store(DBM *, datum, datum, int);
extern void dbm_close(DBM *);
#define DBM_REPLACE 1

int
main(int argc, char **argv)
{
	char line[4096], origin[4096];
	unsigned long crc;
	unsigned int v;
	DBM *db;
	datum k, d;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcrcdb base < lines\n");
		return 2;
	}
	db = dbm_open(argv[1], O_RDWR | O_CREAT, 0644);
	if (db == NULL) {
		perror("dbm_open");
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (sscanf(line, "%4095s %lx", origin, &crc) != 2)
			continue;
		v = (unsigned int)crc;
		k.dptr = origin;
		k.dsize = (int)strlen(origin);
		d.dptr = (char *)&v;
		d.dsize = sizeof(v);
		if (dbm_store(db, k, d, DBM_REPLACE) != 0) {
			perror("dbm_store");
			return 1;
		}
	}
	dbm_close(db);
	return 0;
}
