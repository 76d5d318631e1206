/* fortune [file]: prints one %-separated fortune chosen by the clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FORTUNE_FILE
#define FORTUNE_FILE "/usr/local/share/fortune/fortunes"
#endif

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : FORTUNE_FILE;
	char line[1024];
	long n = 0, pick, cur = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL) { perror(path); return 1; }
	while (fgets(line, sizeof(line), f) != NULL)
		if (strcmp(line, "%\n") == 0)
			n++;
	pick = n ? (long)(time(NULL) % (n + 1)) : 0;
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strcmp(line, "%\n") == 0) { cur++; continue; }
		if (cur == pick)
			fputs(line, stdout);
	}
	return 0;
}
