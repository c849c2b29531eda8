/*
 * config.h - every constant an instructor may want to change, in one place.
 *
 * The performance index of a run (see docs/driver.md):
 *
 *   P = 100 * (UTIL_WEIGHT * ramp(util, U0, U1)
 *              + (1 - UTIL_WEIGHT) * ramp(tput / glibc, T0, T1))
 *   ramp(x, lo, hi) = min(1, max(0, (x - lo) / (hi - lo)))
 *
 * util is the weighted mean over the traces of peak live payload / heap
 * size; tput and glibc are the weighted throughputs (ops per second) of
 * mm.c and of the C library's malloc, measured in the same run. P is 0 when
 * any trace failed. Which ramp (mdriver --score):
 *   cap   (default)  U0 = 0, U1 = UTIL_FULL; T0 = 0, T1 = TPUT_FULL_RATIO:
 *                    credit in proportion, full from UTIL_FULL and
 *                    TPUT_FULL_RATIO on
 *   ramp             U0 = RAMP_UTIL_MIN, U1 = RAMP_UTIL_MAX; T0 =
 *                    RAMP_TPUT_MIN_RATIO, T1 = RAMP_TPUT_MAX_RATIO: the
 *                    CMU 15-213 kit's shape (no credit below the minimum,
 *                    full credit from the maximum on, linear between)
 *   U0,U1,T0,T1      any ramp, e.g. --score 0.55,0.8,0.25,1
 */
#ifndef CONFIG_H
#define CONFIG_H

/* Share of the index given to memory utilization (the rest: throughput). */
static const double UTIL_WEIGHT = 0.60;
/* Utilization that earns full utilization credit (0.90 = 90%). */
static const double UTIL_FULL = 0.90;
/* Throughput, as a multiple of glibc's, that earns full throughput credit. */
static const double TPUT_FULL_RATIO = 1.0;

/* --score ramp: the thresholds of the peer kit's ramp. Its throughput
 * thresholds are absolute Kops of its reference machine; here they are
 * multiples of glibc's throughput measured in the same run, which carry
 * from one machine to another. Set them for your course. */
static const double RAMP_UTIL_MIN = 0.55;
static const double RAMP_UTIL_MAX = 0.80;
static const double RAMP_TPUT_MIN_RATIO = 0.25;
static const double RAMP_TPUT_MAX_RATIO = 1.0;

/* On the sparse heap (traces with requests above 1 GiB), a request above
 * this many bytes may get NULL: more memory than the machines of the lab
 * have, which an allocator may refuse by design. Anything smaller must be
 * served (64 GiB: the reference mm.c's own limit). */
static const unsigned long long GIANT_REFUSABLE_BYTES = 1ULL << 36;

/* Timing (the classic fcyc scheme): keep the best of TIMING_K samples that
 * agree within TIMING_EPSILON, taking at most TIMING_MAX_SAMPLES samples;
 * one sample repeats the replay until it lasts TIMING_MIN_SAMPLE_SECS. */
static const int TIMING_K = 3;
static const double TIMING_EPSILON = 0.02;
static const int TIMING_MAX_SAMPLES = 20;
static const double TIMING_MIN_SAMPLE_SECS = 0.01;

/* Default per-trace time limit in seconds (-s); 0 means none. Measured
 * (docs/driver.md, "Time limit"): a whole timed trace of the suite, checks
 * and glibc's timing included, takes the reference mm.c at most ~1 s and
 * an implicit free list (tools/allocators/implicit.c) at most ~6 s
 * (real-perl.rep) on the kit's 2-core machine; the limit leaves room for a slow
 * but finite allocator and a loaded machine, and stops an endless loop of the
 * 21-trace suite within minutes rather than 21 of them. */
static const double DEFAULT_TIMEOUT_SECS = 20.0;
/* Below this many ops in all the traces of a run, the performance index is
 * noise (short1-bal.rep alone: 12 ops, 82.5 for the reference and 82.4 for
 * an implicit list): the table says so and JSON has "few_ops": true. */
static const unsigned MIN_INDEX_OPS = 1000;
/* -d 2 with several replaying threads (-T, MT traces): all the threads
 * meet at a barrier before every MT_CHECK_EVERY-th op of the trace (op
 * index 16, 32, ...) and at its end, where one of them runs mm_checkheap
 * and the full payload sweep while the others wait. One thread checks
 * after every op; a barrier per op would serialize the threads completely
 * (docs/driver.md, "Threads"). */
static const unsigned MT_CHECK_EVERY = 16;
/* Ops shown before the failing op in an ERROR report. */
static const int CONTEXT_OPS = 5;
/* Bytes of the allocator's own output shown in an ERROR report. */
static const int CONTEXT_OUTPUT_BYTES = 2048;

#endif /* CONFIG_H */
