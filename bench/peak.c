// Measured AVX-512 FMA peak (GFLOP/s) of the threads OpenMP is given: 12 independent FMA chains per thread.
// Built and run by bench/run.sh (gcc -O2 -mavx512f -mfma -fopenmp); prints the best of 3 runs.
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 200000000L;
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = omp_get_wtime();
    float sink = 0;
#pragma omp parallel reduction(+:sink)
    {
      __m512 a0=_mm512_set1_ps(1.0f),a1=a0,a2=a0,a3=a0,a4=a0,a5=a0,a6=a0,a7=a0,a8=a0,a9=a0,a10=a0,a11=a0;
      const __m512 m=_mm512_set1_ps(0.999999f), c=_mm512_set1_ps(1e-7f);
      for (long i = 0; i < iters; i++) {
        a0=_mm512_fmadd_ps(a0,m,c);a1=_mm512_fmadd_ps(a1,m,c);a2=_mm512_fmadd_ps(a2,m,c);a3=_mm512_fmadd_ps(a3,m,c);
        a4=_mm512_fmadd_ps(a4,m,c);a5=_mm512_fmadd_ps(a5,m,c);a6=_mm512_fmadd_ps(a6,m,c);a7=_mm512_fmadd_ps(a7,m,c);
        a8=_mm512_fmadd_ps(a8,m,c);a9=_mm512_fmadd_ps(a9,m,c);a10=_mm512_fmadd_ps(a10,m,c);a11=_mm512_fmadd_ps(a11,m,c);
      }
      __m512 s=_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0,a1),_mm512_add_ps(a2,a3)),_mm512_add_ps(_mm512_add_ps(a4,a5),_mm512_add_ps(a6,a7)));
      s=_mm512_add_ps(s,_mm512_add_ps(_mm512_add_ps(a8,a9),_mm512_add_ps(a10,a11)));
      sink += _mm512_reduce_add_ps(s);
    }
    double dt = omp_get_wtime() - t0;
    double gf = (double)iters * 12 * 16 * 2 * omp_get_max_threads() / dt / 1e9;
    if (gf > best) best = gf;
    if (sink == 12345.f) printf("!");
  }
  printf("%.1f\n", best);
  return 0;
}
