/* rpncalc [-t] expr...: reverse Polish integer calculator.
 * Operators: + - * / % gcd lcm pow sqrt prime?  (-t prints the trace) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <args.h>
#include <list.h>
#include <mathx.h>

static long st[64];
static int sp;

static void push(long v) { if (sp < 64) st[sp++] = v; }
static long pop(void)
{
	if (sp == 0) {
		fprintf(stderr, "rpncalc: stack underflow\n");
		exit(1);
	}
	return st[--sp];
}

int main(int argc, char **argv)
{
	struct args a;
	struct list *trace = NULL;
	int c, tflag = 0, i;
	long x, y;

	args_init(&a, argc, argv);
	while ((c = args_next(&a, "t")) != -1) {
		if (c == 't')
			tflag = 1;
		else {
			fprintf(stderr, "usage: rpncalc [-t] token...\n");
			return 2;
		}
	}
	for (i = a.ind; i < argc; i++) {
		const char *t = argv[i];
		trace = list_push(trace, t);
		if (strcmp(t, "+") == 0) { y = pop(); x = pop(); push(x + y); }
		else if (strcmp(t, "-") == 0) { y = pop(); x = pop(); push(x - y); }
		else if (strcmp(t, "*") == 0 || strcmp(t, "x") == 0) { y = pop(); x = pop(); push(x * y); }
		else if (strcmp(t, "/") == 0) { y = pop(); x = pop(); push(y ? x / y : 0); }
		else if (strcmp(t, "%") == 0) { y = pop(); x = pop(); push(y ? x % y : 0); }
		else if (strcmp(t, "gcd") == 0) { y = pop(); x = pop(); push((long)mx_gcd(x, y)); }
		else if (strcmp(t, "lcm") == 0) { y = pop(); x = pop(); push((long)mx_lcm(x, y)); }
		else if (strcmp(t, "pow") == 0) { y = pop(); x = pop(); push((long)mx_ipow(x, (unsigned)y)); }
		else if (strcmp(t, "sqrt") == 0) push((long)mx_isqrt(pop()));
		else if (strcmp(t, "prime?") == 0) push(mx_isprime(pop()));
		else push(strtol(t, NULL, 0));
	}
	if (tflag) {
		char *s;
		trace = list_reverse(trace);
		s = list_join(trace, " ");
		fprintf(stderr, "trace: %s\n", s);
		free(s);
	}
	list_free(trace);
	while (sp > 0)
		printf("%ld\n", pop());
	return 0;
}
