/* ted-spell: flags lines of a ted buffer longer than N characters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char line[4096];
	size_t max = argc > 1 ? (size_t)atoi(argv[1]) : 72;
	unsigned n = 0;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		n++;
		if (strlen(line) - (strchr(line, '\n') != NULL) > max)
			printf("line %u is too long\n", n);
	}
	return 0;
}
