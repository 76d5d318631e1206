/* libargs: a tiny option parser. */
#ifndef ARGS_H
#define ARGS_H
struct args { int argc; char **argv; int ind; const char *arg; };
void args_init(struct args *a, int argc, char **argv);
/* Returns the next option letter from spec ("ab:c" as getopt), '?' for an
 * unknown one, or -1 at the first operand. */
int args_next(struct args *a, const char *spec);
#endif
