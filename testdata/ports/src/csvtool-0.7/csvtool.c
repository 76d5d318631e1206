/* csvtool -f N [file]: prints field N (1-based) of each CSV line. */
#include <stdio.h>
#include <stdlib.h>
#include <args.h>
#include <csv.h>

int main(int argc, char **argv)
{
	struct args a;
	char line[4096], *fields[CSV_MAXF];
	int c, field = 1, n;
	FILE *f = stdin;
	args_init(&a, argc, argv);
	while ((c = args_next(&a, "f:")) != -1) {
		if (c == 'f')
			field = atoi(a.arg);
		else {
			fprintf(stderr, "usage: csvtool -f N [file]\n");
			return 2;
		}
	}
	if (a.ind < argc && (f = fopen(argv[a.ind], "r")) == NULL) {
		perror(argv[a.ind]);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n = csv_split(line, fields, CSV_MAXF);
		puts(field >= 1 && field <= n ? fields[field - 1] : "");
	}
	return 0;
}
