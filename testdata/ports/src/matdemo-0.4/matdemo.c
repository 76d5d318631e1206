/* matdemo n: Fibonacci numbers by matrix powers, checked with libmathx. */
#include <stdio.h>
#include <stdlib.h>
#include <matrix.h>
#include <mathx.h>

int main(int argc, char **argv)
{
	struct matrix f, r;
	int i, n = argc > 1 ? atoi(argv[1]) : 10;
	mat_identity(&r, 2);
	mat_identity(&f, 2);
	f.v[0][0] = 1; f.v[0][1] = 1; f.v[1][0] = 1; f.v[1][1] = 0;
	for (i = 0; i < n; i++)
		mat_mul(&r, &r, &f);
	printf("fib(%d) = %ld, gcd(fib(%d), fib(%d)) = %lu\n", n, r.v[0][1],
	    n, n + 1, mx_gcd((unsigned long)r.v[0][1], (unsigned long)r.v[0][0]));
	return 0;
}
