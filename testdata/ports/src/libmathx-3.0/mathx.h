/* libmathx: integer arithmetic helpers. */
#ifndef MATHX_H
#define MATHX_H
unsigned long mx_gcd(unsigned long a, unsigned long b);
unsigned long mx_lcm(unsigned long a, unsigned long b);
int mx_isprime(unsigned long n);
unsigned long mx_isqrt(unsigned long n);
unsigned long mx_ipow(unsigned long b, unsigned e);
#endif
