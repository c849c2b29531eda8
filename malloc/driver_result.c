/*
 * driver_result.c - a trace's result: how its failures are recorded.
 *
 * The engine (driver_check.c) and the runner (driver_run.c) both fail a
 * trace through result_fail; neither reads the other's state.
 */
#include "driver.h"

#include <stdarg.h>

void result_fail(trace_result *r, const volatile replay_slot *slot,
                 error_kind kind, int64_t op_index, const char *fmt, ...)
{
    va_list ap;
    int32_t phase = slot ? slot->phase : PHASE_REPLAY1;
    int32_t where = slot ? slot->where : WHERE_OP;
    r->kind = kind;
    r->op_index = op_index;
    r->phase = phase >= PHASE_REPLAY1 && phase <= PHASE_PROBE ? phase : 0;
    r->where = where >= WHERE_OP && where <= WHERE_HEAP_WALK ? where : 0;
    va_start(ap, fmt);
    vsnprintf(r->details, sizeof r->details, fmt, ap);
    va_end(ap);
}
