/*
 * readcrcdb: read a ports_crc database through Berkeley DB 1.85's ndbm
 * interface (Debian's libdb1-compat) the way dsynth does, for builddb's
 * tests.
 *
 * usage: readcrcdb BASE                 print "origin size crc" per key
 *        readcrcdb BASE origin crc [n]  also store entries first, as
 *                                       dsynth's check_packaged does: the
 *                                       origin, and with n, n-1 more named
 *                                       origin.1 ... origin.(n-1)
 *
 * dsynth looks a key up with dbm_fetch (key = origin without NUL) and
 * accepts a value only when it is exactly 4 bytes, read as a native
 * uint32_t.  Every key found by the iteration is also fetched, so a key
 * the iteration sees but the hash lookup cannot find is reported.
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
extern datum dbm_fetch(DBM *, datum);
extern datum dbm_firstkey(DBM *);
extern datum dbm_nextkey(DBM *);
extern int dbm_store(DBM *, datum, datum, int);
extern void dbm_close(DBM *);
#define DBM_REPLACE 1

int
main(int argc, char **argv)
{
	char name[4096];
	unsigned int v;
	DBM *db;
	datum k, d;

	int i, n;

	if (argc < 2 || argc == 3 || argc > 5) {
		fprintf(stderr, "usage: readcrcdb base [origin crc [n]]\n");
		return 2;
	}
	db = dbm_open(argv[1], argc >= 4 ? O_RDWR : O_RDONLY, 0644);
	if (db == NULL) {
		perror("dbm_open");
		return 1;
	}
	n = argc == 5 ? atoi(argv[4]) : argc == 4;
	for (i = 0; i < n; i++) {
		if (i == 0)
			snprintf(name, sizeof(name), "%s", argv[2]);
		else
			snprintf(name, sizeof(name), "%s.%d", argv[2], i);
		v = (unsigned int)strtoul(argv[3], NULL, 16);
		k.dptr = name;
		k.dsize = (int)strlen(name);
		d.dptr = (char *)&v;
		d.dsize = sizeof(v);
		if (dbm_store(db, k, d, DBM_REPLACE) != 0) {
			perror("dbm_store");
			return 1;
		}
	}
	for (k = dbm_firstkey(db); k.dptr != NULL; k = dbm_nextkey(db)) {
		if (k.dsize <= 0 || k.dsize >= (int)sizeof(name)) {
			fprintf(stderr, "bad key size %d\n", k.dsize);
			return 1;
		}
		memcpy(name, k.dptr, k.dsize);
		name[k.dsize] = 0;
		d = dbm_fetch(db, k);
		if (d.dptr == NULL) {
			fprintf(stderr, "%s: listed but not found by dbm_fetch\n", name);
			return 1;
		}
		v = 0;
		if (d.dsize == sizeof(v))
			memcpy(&v, d.dptr, sizeof(v));
		printf("%s %d %08x\n", name, d.dsize, v);
	}
	dbm_close(db);
	return 0;
}
