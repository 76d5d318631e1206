/* xd: hex dump.  xd [-w width] [file] */
#include <stdio.h>
#include <stdlib.h>
#include <args.h>
#include <kit.h>

int main(int argc, char **argv)
{
	struct args a;
	int c, width = 16;
	unsigned long off = 0;
	unsigned char buf[256];
	size_t n, i;
	FILE *f = stdin;

	args_init(&a, argc, argv);
	while ((c = args_next(&a, "w:v")) != -1) {
		switch (c) {
		case 'w': width = atoi(a.arg); break;
		case 'v': printf("xd 0.5 (libkit %s)\n", kit_version()); return 0;
		default: fprintf(stderr, "usage: xd [-v] [-w width] [file]\n"); return 2;
		}
	}
	if (width < 1 || width > 64)
		width = 16;
	if (a.ind < argc && (f = fopen(argv[a.ind], "rb")) == NULL) {
		perror(argv[a.ind]);
		return 1;
	}
	while ((n = fread(buf, 1, (size_t)width, f)) > 0) {
		printf("%08lx:", off);
		for (i = 0; i < n; i++)
			printf(" %02x", buf[i]);
		printf("\n");
		off += n;
	}
	return 0;
}
