/*
 * config.h - every constant an instructor may want to change, in one place.
 *
 * The performance index of a run (see docs/driver.md):
 *
 *   P = 100 * (UTIL_WEIGHT * min(1, util / UTIL_FULL)
 *              + (1 - UTIL_WEIGHT) * min(1, tput / (TPUT_FULL_RATIO * glibc)))
 *
 * util is the weighted mean over the traces of peak live payload / heap
 * size; tput and glibc are the weighted throughputs (ops per second) of
 * mm.c and of the C library's malloc, measured in the same run. P is 0 when
 * any trace failed.
 */
#ifndef CONFIG_H
#define CONFIG_H

/* Share of the index given to memory utilization (the rest: throughput). */
static const double UTIL_WEIGHT = 0.60;
/* Utilization that earns full utilization credit (0.90 = 90%). */
static const double UTIL_FULL = 0.90;
/* Throughput, as a multiple of glibc's, that earns full throughput credit. */
static const double TPUT_FULL_RATIO = 1.0;

/* Timing (the classic fcyc scheme): keep the best of TIMING_K samples that
 * agree within TIMING_EPSILON, taking at most TIMING_MAX_SAMPLES samples;
 * one sample repeats the replay until it lasts TIMING_MIN_SAMPLE_SECS. */
static const int TIMING_K = 3;
static const double TIMING_EPSILON = 0.02;
static const int TIMING_MAX_SAMPLES = 20;
static const double TIMING_MIN_SAMPLE_SECS = 0.01;

/* Default per-trace time limit in seconds (-s); 0 means none. */
static const double DEFAULT_TIMEOUT_SECS = 60.0;
/* Ops shown before the failing op in an ERROR report. */
static const int CONTEXT_OPS = 5;
/* Bytes of the allocator's own output shown in an ERROR report. */
static const int CONTEXT_OUTPUT_BYTES = 2048;

#endif /* CONFIG_H */
