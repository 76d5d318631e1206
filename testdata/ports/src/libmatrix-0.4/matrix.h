/* libmatrix: small dense integer matrices. */
#ifndef MATRIX_H
#define MATRIX_H
struct matrix { int n; long v[8][8]; };
void mat_identity(struct matrix *m, int n);
void mat_mul(struct matrix *out, const struct matrix *a, const struct matrix *b);
long mat_trace(const struct matrix *m);
#endif
