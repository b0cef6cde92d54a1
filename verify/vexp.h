/* vexp.h - vector exp for the log-sum-exp of logits and the attention softmax (internal). */
#ifndef VERIFY_VEXP_H
#define VERIFY_VEXP_H

#ifdef __AVX512F__
#include <immintrin.h>

/* exp(d) for 8 floats d (any sign; NaN stays NaN), computed in double (Cody-Waite reduction by ln 2, degree-12 Taylor
 * polynomial, |error| ~1e-15 relative) and rounded to float, returned widened to double: each
 * value is expf's float to within its last-bit rounding, and 0 below ~-103.9 as expf gives. */
static inline __m512d verify_exp_to_float_pd(__m256 d)
{
    __m512d x = _mm512_cvtps_pd(d);
    /* clamp to [-110, 100] (0 and inf after rounding to float); the constant is the first
     * operand so that a NaN x, returned as the second, propagates */
    x = _mm512_max_pd(_mm512_set1_pd(-110.0), x);
    x = _mm512_min_pd(_mm512_set1_pd(100.0), x);
    const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(6.93147180369123816490e-01), x);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(1.90821492927058770002e-10), r);
    static const double c[13] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                                 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600};
    __m512d p = _mm512_set1_pd(c[12]);
    for (int i = 11; i >= 0; i--) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c[i]));
    p = _mm512_scalef_pd(p, n);
    return _mm512_cvtps_pd(_mm512_cvtpd_ps(p));
}
#endif

#endif /* VERIFY_VEXP_H */
