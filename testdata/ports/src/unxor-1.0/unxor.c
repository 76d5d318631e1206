/* unxor [-k key]: XORs stdin with a one-byte key (default 90) to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	int c, key = 90;
	if (argc == 3 && strcmp(argv[1], "-k") == 0)
		key = atoi(argv[2]);
	else if (argc != 1) {
		fprintf(stderr, "usage: unxor [-k key] < in > out\n");
		return 2;
	}
	while ((c = getchar()) != EOF)
		putchar(c ^ key);
	return fflush(stdout) == 0 ? 0 : 1;
}
