/* brainf file.bf: a brainfuck interpreter. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	static unsigned char tape[30000];
	char *prog;
	long len, pc, depth;
	unsigned char *p = tape;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: brainf file.bf\n");
		return 2;
	}
	if ((f = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	prog = malloc(len + 1);
	len = (long)fread(prog, 1, len, f);
	prog[len] = 0;
	for (pc = 0; pc < len; pc++) {
		switch (prog[pc]) {
		case '>': p++; break;
		case '<': p--; break;
		case '+': ++*p; break;
		case '-': --*p; break;
		case '.': putchar(*p); break;
		case ',': { int c = getchar(); *p = c == EOF ? 0 : c; } break;
		case '[':
			if (*p == 0)
				for (depth = 1; depth && ++pc < len;)
					depth += (prog[pc] == '[') - (prog[pc] == ']');
			break;
		case ']':
			if (*p != 0)
				for (depth = 1; depth && --pc >= 0;)
					depth += (prog[pc] == ']') - (prog[pc] == '[');
			break;
		}
	}
	return 0;
}
