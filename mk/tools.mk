# The trace tools (docs/tools.md): the LD_PRELOAD recorder and the minimizer.
#   make recorder    build/mmrecord.so (tools/record also builds it on demand)
# Paths are relative to the repo root (this file is included by ./Makefile).
recorder:
	$(MAKE) -s -C tools/recorder

TEST_DEPS += tools-test-deps
tools-test-deps: recorder

.PHONY: recorder tools-test-deps
