/* banner TEXT: prints TEXT in a box.  Data directory: @DATADIR@ */
#include <stdio.h>
#include <string.h>

#define DATADIR "@DATADIR@"

int main(int argc, char **argv)
{
	const char *t = argc > 1 ? argv[1] : "banner";
	size_t i, n = strlen(t);
	if (argc > 1 && strcmp(argv[1], "-d") == 0) {
		puts(DATADIR);
		return 0;
	}
	putchar('+'); for (i = 0; i < n + 2; i++) putchar('-'); puts("+");
	printf("| %s |\n", t);
	putchar('+'); for (i = 0; i < n + 2; i++) putchar('-'); puts("+");
	return 0;
}
