/* lfetch -o OUTPUT URL: fetches a file:// URL (the only scheme it knows). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	FILE *in, *out;
	char buf[8192];
	size_t n;
	const char *src;
	if (argc != 4 || strcmp(argv[1], "-o") != 0) {
		fprintf(stderr, "usage: lfetch -o output url\n");
		return 2;
	}
	if (strncmp(argv[3], "file://", 7) != 0) {
		fprintf(stderr, "lfetch: %s: unsupported scheme\n", argv[3]);
		return 1;
	}
	src = argv[3] + 7;
	if ((in = fopen(src, "rb")) == NULL) { perror(src); return 1; }
	if ((out = fopen(argv[2], "wb")) == NULL) { perror(argv[2]); return 1; }
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) { perror(argv[2]); return 1; }
	if (fclose(out) != 0) { perror(argv[2]); return 1; }
	fprintf(stderr, "lfetch: %s -> %s\n", argv[3], argv[2]);
	return 0;
}
