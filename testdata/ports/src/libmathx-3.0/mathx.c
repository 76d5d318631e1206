#include "mathx.h"

unsigned long mx_gcd(unsigned long a, unsigned long b)
{
	while (b != 0) {
		unsigned long t = a % b;
		a = b;
		b = t;
	}
	return a;
}

unsigned long mx_lcm(unsigned long a, unsigned long b)
{
	return a && b ? a / mx_gcd(a, b) * b : 0;
}

unsigned long mx_isqrt(unsigned long n)
{
	unsigned long r = 0, bit = 1UL << (sizeof(n) * 8 - 2);
	while (bit > n)
		bit >>= 2;
	while (bit) {
		if (n >= r + bit) {
			n -= r + bit;
			r = (r >> 1) + bit;
		} else
			r >>= 1;
		bit >>= 2;
	}
	return r;
}

int mx_isprime(unsigned long n)
{
	unsigned long d, lim;
	if (n < 2)
		return 0;
	if (n % 2 == 0)
		return n == 2;
	lim = mx_isqrt(n);
	for (d = 3; d <= lim; d += 2)
		if (n % d == 0)
			return 0;
	return 1;
}

unsigned long mx_ipow(unsigned long b, unsigned e)
{
	unsigned long r = 1;
	while (e) {
		if (e & 1)
			r *= b;
		b *= b;
		e >>= 1;
	}
	return r;
}
