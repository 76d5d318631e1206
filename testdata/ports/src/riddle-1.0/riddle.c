/* riddle: prints a riddle, or the answer with -a. */
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-a") == 0)
		puts("A keyboard.");
	else
		puts("What has keys but can't open locks?");
	return 0;
}
