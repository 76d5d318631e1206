#include <string.h>
#include "matrix.h"

void mat_identity(struct matrix *m, int n)
{
	int i;
	memset(m, 0, sizeof(*m));
	m->n = n;
	for (i = 0; i < n; i++)
		m->v[i][i] = 1;
}

void mat_mul(struct matrix *out, const struct matrix *a, const struct matrix *b)
{
	struct matrix r;
	int i, j, k;
	memset(&r, 0, sizeof(r));
	r.n = a->n;
	for (i = 0; i < a->n; i++)
		for (j = 0; j < a->n; j++)
			for (k = 0; k < a->n; k++)
				r.v[i][j] += a->v[i][k] * b->v[k][j];
	*out = r;
}

long mat_trace(const struct matrix *m)
{
	long t = 0;
	int i;
	for (i = 0; i < m->n; i++)
		t += m->v[i][i];
	return t;
}
