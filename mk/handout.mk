# The student handout and the grader (docs/grading.md). Paths are relative
# to the root.
#   make handout   build/malloclab-handout.tar.gz: driver, memlib, traces,
#                  student tools, the driver's tests, a skeleton mm.c and a
#                  README.md template (tools/grade_handout.py; never the
#                  reference mm.c nor tools/allocators/)
handout:
	$(PYTHON) tools/grade_handout.py -o build/malloclab-handout.tar.gz

.PHONY: handout
