--- primes.c.orig
+++ primes.c
@@ -15,7 +15,7 @@
 		from = strtoul(argv[1], NULL, 10);
 	to = strtoul(argv[argc - 1], NULL, 10);
 	for (n = from; n <= to; n++)
-		if (is_prime(n))
+		if (mx_isprime(n))
 			printf("%lu\n", n);
 	return 0;
 }
