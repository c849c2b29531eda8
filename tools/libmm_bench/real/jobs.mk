# A make workload for the libmm benchmark (tools/bench_libmm.py):
#   make -s -B -j2 -f jobs.mk N=COUNT
# N targets, each made by a shell recipe, two at a time, with a large
# list of names through make's text functions; the default goal prints a
# checksum of every target's file, in order, so the output depends only on
# N (not on the order -j2 runs the recipes in).
N ?= 100
IDS := $(shell seq 1 $(N))
OUTS := $(IDS:%=out/t%.txt)
NAMES := $(foreach i,$(IDS),$(subst 1,one,$(subst 2,two,item$(i))))
SORTED := $(sort $(NAMES) $(patsubst item%,name%,$(NAMES)))

all: $(OUTS)
	@echo "$(words $(SORTED)) names, first $(firstword $(SORTED)), last $(lastword $(SORTED))"
	@cat $(OUTS) | cksum

$(OUTS): | out
out/t%.txt:
	@echo "$* $(word $*,$(NAMES)) $(words $(filter %$*,$(NAMES)))" > $@

out:
	@mkdir -p $@
