# The trace suite's rules (owner: traces). Paths are relative to the repo root.
#   make traces        regenerate every generated trace in traces/ from its seed
#   make big-traces    the benchmark set (>= 1M ops each) into build/big-traces/
#   make traces-bench  the comparison allocators and the reference on the suite
TRACE_BIG_DIR = build/big-traces
TRACE_ALLOCATORS = implicit explicit_ff

traces:
	$(PYTHON) tools/gen_traces.py

big-traces: $(TRACE_BIG_DIR)/big-1m-live.rep

$(TRACE_BIG_DIR)/big-1m-live.rep: tools/gen_traces.py tools/reptrace.py
	$(PYTHON) tools/gen_traces.py --big $(TRACE_BIG_DIR)

# mdriver with each comparison allocator, for the tests and the benchmark;
# skipped (with a note) while malloc/mdriver.c does not exist yet.
TEST_DEPS += traces-test-deps
traces-test-deps:
	@mkdir -p build; if [ -f malloc/mdriver.c ]; then \
	  for a in $(TRACE_ALLOCATORS); do \
	    $(MAKE) -C malloc -B OUT=../build/mdriver-$$a MM=../tools/allocators/$$a.c || exit 1; \
	  done; \
	else echo "traces-test-deps: no malloc/mdriver.c yet, comparison drivers not built"; fi

BENCHES += traces-bench
traces-bench: traces-test-deps
	$(PYTHON) tools/allocators/compare.py

.PHONY: traces big-traces traces-test-deps traces-bench
