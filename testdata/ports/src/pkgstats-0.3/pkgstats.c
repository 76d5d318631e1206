/* pkgstats [dbdir]: counts the installed packages and their files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

int main(int argc, char **argv)
{
	const char *db = argc > 1 ? argv[1] : getenv("PKG_DBDIR");
	char path[4096], line[4096];
	struct dirent *e;
	unsigned long pkgs = 0, files = 0;
	DIR *d;
	if (db == NULL)
		db = "/var/db/pkg";
	if ((d = opendir(db)) == NULL) { perror(db); return 1; }
	while ((e = readdir(d)) != NULL) {
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/+MANIFEST", db, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		pkgs++;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "file: ", 6) == 0)
				files++;
		fclose(f);
	}
	closedir(d);
	printf("%lu packages, %lu files\n", pkgs, files);
	return 0;
}
