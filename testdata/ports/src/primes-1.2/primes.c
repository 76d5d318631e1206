/* primes [from] to: prints the primes in [from, to]. */
#include <stdio.h>
#include <stdlib.h>
#include <mathx.h>

int main(int argc, char **argv)
{
	unsigned long from = 2, to, n;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: primes [from] to\n");
		return 2;
	}
	if (argc == 3)
		from = strtoul(argv[1], NULL, 10);
	to = strtoul(argv[argc - 1], NULL, 10);
	for (n = from; n <= to; n++)
		if (is_prime(n))
			printf("%lu\n", n);
	return 0;
}
