/* metrics.c - perplexity and comparison statistics; see metrics.h. */
#include "verify/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "verify/vexp.h"

static int row_stats(const float *l, int64_t n, float *mx, int64_t *arg, double *sum)
{
    int64_t i = 0;
#ifdef __AVX512F__
    if (n >= 16) {
        /* pass 1: max, and NaN in z iff some l[i] is NaN or infinite */
        __m512 vm = _mm512_loadu_ps(l), z = _mm512_setzero_ps();
        for (; i + 16 <= n; i += 16) {
            const __m512 v = _mm512_loadu_ps(l + i);
            vm = _mm512_max_ps(vm, v);
            z = _mm512_add_ps(z, _mm512_mul_ps(v, _mm512_setzero_ps()));
        }
        float m = _mm512_reduce_max_ps(vm);
        if (_mm512_cmp_ps_mask(z, z, _CMP_UNORD_Q)) return -1;
        for (int64_t j = i; j < n; j++) {
            if (!isfinite(l[j])) return -1;
            if (l[j] > m) m = l[j];
        }
        int64_t a = 0;   /* the first index holding the max, as the scalar scan finds it */
        while (l[a] != m) a++;
        /* pass 2: sum of expf(l[i] - m) in double */
        const __m512 vmx = _mm512_set1_ps(m);
        __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
        for (i = 0; i + 16 <= n; i += 16) {
            const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(l + i), vmx);
            s0 = _mm512_add_pd(s0, verify_exp_to_float_pd(_mm512_castps512_ps256(d)));
            s1 = _mm512_add_pd(s1, verify_exp_to_float_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(d), 1))));
        }
        double s = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
        for (; i < n; i++) s += expf(l[i] - m);
        *mx = m;
        *arg = a;
        *sum = s;
        return 0;
    }
#endif
    float m = l[0];
    int64_t a = 0;
    for (i = 0; i < n; i++) {
        if (!isfinite(l[i])) return -1;
        if (l[i] > m) { m = l[i]; a = i; }
    }
    double s = 0;
    for (i = 0; i < n; i++) s += expf(l[i] - m);
    *mx = m;
    *arg = a;
    *sum = s;
    return 0;
}

double verify_nll(const float *logits, int64_t n_vocab, int32_t tok)
{
    float mx;
    int64_t arg;
    double sum;
    if (row_stats(logits, n_vocab, &mx, &arg, &sum)) return NAN;
    /* as llama-perplexity: (float)(l_tok - max), then log of the double sum */
    const float d = logits[tok] - mx;
    return -((double)d - log(sum));
}

void verify_ppl_add(verify_ppl *p, double nll)
{
    p->nll += nll;
    p->nll2 += nll * nll;
    p->count++;
}

double verify_ppl_value(const verify_ppl *p)
{
    return p->count ? exp(p->nll / (double)p->count) : NAN;
}

double verify_ppl_error(const verify_ppl *p)
{
    if (p->count < 2) return 0;
    const double mean = p->nll / (double)p->count, mean2 = p->nll2 / (double)p->count;
    const double var = mean2 - mean * mean;
    return verify_ppl_value(p) * sqrt((var > 0 ? var : 0) / (double)(p->count - 1));
}

int verify_compare_row(const float *r, const float *q, int64_t n, int32_t tok, verify_tok_cmp *out)
{
    float mr, mq;
    int64_t ar, aq;
    double sr, sq;
    if (row_stats(r, n, &mr, &ar, &sr) || row_stats(q, n, &mq, &aq, &sq)) return -1;
    const double lsr = log(sr), lsq = log(sq);
    double kld = 0;
    for (int64_t i = 0; i < n; i++) {
        const double lp = ((double)r[i] - mr) - lsr;
        const double lq = ((double)q[i] - mq) - lsq;
        kld += exp(lp) * (lp - lq);
    }
    out->kld = kld > 0 ? kld : 0;
    out->same_top = ar == aq;
    /* NLLs exactly as verify_nll (llama-perplexity's rounding) */
    const float dr = r[tok] - mr, dq = q[tok] - mq;
    out->nll_ref = -((double)dr - lsr);
    out->nll_model = -((double)dq - lsq);
    out->p_ref = exp(-out->nll_ref);
    out->p_model = exp(-out->nll_model);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double verify_percentile(double *v, int64_t n, double pct)
{
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    const double pos = pct / 100.0 * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    if (lo >= n - 1) return v[n - 1];
    if (lo < 0) lo = 0;
    const double f = pos - (double)lo;
    return v[lo] + f * (v[lo + 1] - v[lo]);
}
