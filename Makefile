# vgpubench: top-level build. `make run` and `make test` are the two commands
# a new user needs; both install what is missing first (make deps).

CC      ?= cc
BUILD   := build
CSTD    := -std=c11
WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS := $(CSTD) $(WARN) $(CFLAGS) -Icommon -Iharness -Iworkloads -Iguest-agent -Imediator -I/usr/include/libdrm \
	-I/usr/include/postgresql
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

PLAN    ?= harness/plans/default.ini
# Builds use every CPU.
JOBS    := $(shell nproc 2>/dev/null || echo 1)

# What every part uses (common/): the monotonic clock, whole-buffer I/O, /proc fields, the scheduler's policies by
# name; and what more than one part computes with:
# the statistics (the harness, the benchmarks), the stage histograms (the mediator keeps them, the harness reads
# them with the same arithmetic) and the EDID blocks (the guests' kernel's, a vGPU's outputs').
COMMON_SRC  := common/io_full.c common/mono_clock.c common/proc_field.c common/sched_policy.c
STATS_SRC   := common/stats.c
STAGE_HIST_SRC := common/stage_hist.c
EDID_SRC    := common/edid_block.c
COMMON_HDR  := $(wildcard common/*.h)
# The harness's helpers (util.h), which the tools and some mediator tests link too.
UTIL_SRC    := $(wildcard harness/util/*.c)
AGENT_SRC   := $(wildcard guest-agent/*.c) $(COMMON_SRC)
# A workload's folder holds its definition (NAME_workload.c) beside its program, which the harness does not link.
# The store's back-ends are in harness/store/db/.
HARNESS_SRC := $(filter-out harness/main.c,$(wildcard harness/*.c harness/*/*.c harness/store/db/*.c)) \
	$(wildcard workloads/*.c workloads/*/*_workload.c) $(COMMON_SRC) $(STATS_SRC) $(EDID_SRC)
HARNESS_HDR := $(wildcard harness/*.h harness/*/*.h workloads/*.h) $(COMMON_HDR)
HARNESS_LIBS := -lsqlite3 -lpq -ljson-c -lm
# The mediator: its library part is linked into the tests and fuzzers too. One folder per layer: vhost/ (guest
# memory, rings, messages, the vhost-user device), device/ (the virtio-gpu and vtest devices), render/ (the
# renderer interface, its back-ends, the worker processes), sched/, display/ and process/ (sandbox, control
# socket, memory).
MEDIATOR_LIB_SRC := $(addprefix mediator/vhost/,guest_mem.c vring.c vhost_msg.c vhost_dev.c) \
	$(addprefix mediator/device/,idmap.c virgl_scan.c gpu_display.c gpu_device.c gpu_copy.c gpu_resource.c gpu_2d.c \
	gpu_present.c gpu_3d.c vtest_dev.c) \
	$(addprefix mediator/render/,renderer.c render_proto.c render_worker.c render_spawn.c shared_mem.c) \
	$(addprefix mediator/render/backend/,virgl.c null.c worker.c) \
	$(addprefix mediator/sched/,gpu_sched.c watchdog.c cpu_clock.c) \
	$(addprefix mediator/display/,copy_pool.c display_sender.c) \
	$(addprefix mediator/process/,control.c sandbox.c proc_mem.c) $(STAGE_HIST_SRC) $(COMMON_SRC) $(EDID_SRC)
# The mediator process itself (its state, loop, options), linked into vgpu-mediator only.
MEDIATOR_MAIN_SRC := mediator/main.c $(wildcard mediator/loop/*.c)
MEDIATOR_LIBS := -lvirglrenderer -lepoxy -ljson-c -lseccomp
MEDIATOR_TEST_SRC := tools/frontend.c
# The tests: unit/ (one folder per part), integration/ (what boots guests or starts the built programs), lib/ (what
# the tests share: check.h, check.sh, fixtures); make finds a test's source through TEST_DIRS.
TEST_DIRS   := $(wildcard tests/unit/*) tests/integration
TEST_SRC    := $(wildcard $(addsuffix /*_test.c,$(TEST_DIRS)))
vpath %_test.c $(TEST_DIRS)

AGENT        := $(BUILD)/vgpu-agent
KMS2D        := $(BUILD)/kms2d
GPUHOG       := $(BUILD)/gpuhog
AGENT_SAN    := $(BUILD)/san/vgpu-agent
VGPUBENCH    := $(BUILD)/vgpubench
MEDIATOR     := $(BUILD)/vgpu-mediator
BENCH_MEDIATOR := $(BUILD)/bench-mediator
BENCH_VTEST  := $(BUILD)/bench-vtest
BENCH_LAB    := $(BUILD)/bench-lab
CP_RATES     := $(BUILD)/changepoint-rates
HOSTILE      := $(BUILD)/vgpu-hostile
HOSTILE_SRC  := tools/hostile.c tools/hostile_vm.c tools/hostile_cases.c tools/frontend.c mediator/vhost/vhost_msg.c \
	$(UTIL_SRC) $(COMMON_SRC)
BENCH_MEDIATOR_SRC := tools/bench_mediator.c tools/bench_session.c tools/frontend.c mediator/vhost/vhost_msg.c \
	mediator/sched/gpu_sched.c $(UTIL_SRC) harness/host/proc_tree.c $(COMMON_SRC) $(STATS_SRC)
BENCH_VTEST_SRC := tools/bench_vtest.c harness/host/vtest_ns.c harness/host/xvfb.c $(UTIL_SRC) \
	$(COMMON_SRC) $(STATS_SRC)
TESTS_SAN    := $(patsubst %.c,$(BUILD)/san/%,$(notdir $(TEST_SRC)))
FUZZERS      := $(patsubst mediator/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard mediator/fuzz/*_fuzz.c))

.PHONY: all build deps run test check bench bench-mediator bench-vtest bench-lab bench-changepoints fuzz format \
	changepoint-fixtures clean

all: deps
	@$(MAKE) -j$(JOBS) --no-print-directory build

build: $(AGENT) $(VGPUBENCH) $(KMS2D) $(GPUHOG) $(MEDIATOR) $(BENCH_MEDIATOR) $(BENCH_VTEST) $(HOSTILE)

# The installer is idempotent: a second run installs nothing.
deps:
	@bash scripts/deps.sh

$(AGENT): $(AGENT_SRC) $(wildcard guest-agent/*.h) $(COMMON_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -static -o $@ $(AGENT_SRC) -ljson-c

$(AGENT_SAN): $(AGENT_SRC) $(wildcard guest-agent/*.h) $(COMMON_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $(AGENT_SRC) -ljson-c

$(KMS2D): workloads/kms2d/kms2d.c workloads/kms2d/kms2d_frames.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $$(pkg-config --cflags libdrm) -pthread -o $@ $< $$(pkg-config --libs libdrm)

$(GPUHOG): workloads/gpuhog/gpuhog.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $$(pkg-config --cflags epoxy) -o $@ $< $$(pkg-config --libs epoxy)

# The harness reads the mediator's stage histograms with the same arithmetic (common/stage_hist.c), and knows its
# policies by the same list (common/sched_policy.h): it includes nothing of the mediator's.
$(VGPUBENCH): harness/main.c $(HARNESS_SRC) $(HARNESS_HDR) $(STAGE_HIST_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ harness/main.c $(HARNESS_SRC) $(STAGE_HIST_SRC) $(HARNESS_LIBS)

$(MEDIATOR): $(MEDIATOR_MAIN_SRC) $(MEDIATOR_LIB_SRC) $(wildcard mediator/*.h mediator/*/*.h) $(COMMON_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(MEDIATOR_MAIN_SRC) $(MEDIATOR_LIB_SRC) $(MEDIATOR_LIBS)

# The benchmark is built like a release binary: it measures, so no sanitizers.
$(BENCH_MEDIATOR): $(BENCH_MEDIATOR_SRC) $(wildcard mediator/*.h mediator/*/*.h tools/*.h harness/util.h) \
	$(COMMON_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools -o $@ $(BENCH_MEDIATOR_SRC) -ljson-c -lpthread -lm

$(BENCH_VTEST): $(BENCH_VTEST_SRC) $(wildcard harness/host/vtest_ns.h harness/host/xvfb.h harness/util.h) \
	$(COMMON_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iharness -o $@ $(BENCH_VTEST_SRC) -lm

# The hostile front-end (the robustness catalogue), built like the benchmark: it drives release back-ends.
$(HOSTILE): $(HOSTILE_SRC) $(wildcard mediator/*.h mediator/*/*.h tools/*.h harness/util.h) $(COMMON_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools -o $@ $(HOSTILE_SRC) -ljson-c -lpthread

# Sanitized objects, compiled once and linked into every test.
SAN_OBJ := $(patsubst %.c,$(BUILD)/san/obj/%.o,$(sort $(HARNESS_SRC) $(MEDIATOR_LIB_SRC) $(MEDIATOR_TEST_SRC)))
ALL_HDR := $(HARNESS_HDR) $(wildcard mediator/*.h mediator/*/*.h tools/*.h)
.SECONDARY: $(SAN_OBJ)

$(BUILD)/san/obj/%.o: %.c $(ALL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -Itools -c -o $@ $<

$(BUILD)/san/%_test: %_test.c $(wildcard tests/lib/*.h) $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -Itests/lib -Itools -o $@ $< $(SAN_OBJ) $(HARNESS_LIBS) $(MEDIATOR_LIBS)

# ThreadSanitizer: the mediator (its loop and watchdog threads) and the tests of its parts, built once more.
# make test runs them, and the process tests drive the TSan mediator.
# -Wno-tsan: vring.c's fences order guest-visible memory, which TSan cannot model anyway.
TSAN := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
TSAN_SRC := $(MEDIATOR_LIB_SRC) $(MEDIATOR_TEST_SRC) $(UTIL_SRC) harness/host/vtest_ns.c harness/host/xvfb.c \
	harness/host/proc_tree.c
TSAN_OBJ := $(patsubst %.c,$(BUILD)/tsan/obj/%.o,$(TSAN_SRC))
TSAN_TEST_NAMES := gpu_device_test gpu_present_test gpu_3d_test vtest_dev_test vhost_dev_test watchdog_test \
	gpu_sched_test stage_hist_test copy_pool_test display_sender_test control_test mediator_process_test \
	mediator_workers_test vtest_process_test render_worker_test
TESTS_TSAN := $(addprefix $(BUILD)/tsan/,$(TSAN_TEST_NAMES))
MEDIATOR_TSAN := $(BUILD)/tsan/vgpu-mediator
.SECONDARY: $(TSAN_OBJ)

$(BUILD)/tsan/obj/%.o: %.c $(ALL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TSAN) -Itools -c -o $@ $<

$(BUILD)/tsan/%_test: %_test.c $(wildcard tests/lib/*.h) $(TSAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TSAN) -Itests/lib -Itools -o $@ $< $(TSAN_OBJ) $(HARNESS_LIBS) $(MEDIATOR_LIBS)

$(MEDIATOR_TSAN): $(MEDIATOR_MAIN_SRC) $(TSAN_OBJ) $(wildcard mediator/loop/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TSAN) -o $@ $(MEDIATOR_MAIN_SRC) \
		$(patsubst %.c,$(BUILD)/tsan/obj/%.o,$(MEDIATOR_LIB_SRC)) $(MEDIATOR_LIBS)

run: deps
	@$(MAKE) -j$(JOBS) --no-print-directory build
	$(VGPUBENCH) run $(PLAN)

# vgpu-mediator against QEMU's own vhost-user-gpu back-end, same command
# stream, same machine, one run (BENCH_ARGS: e.g. --sizes 1920x1080 --reps 5).
bench-mediator: deps
	@$(MAKE) --no-print-directory $(MEDIATOR) $(BENCH_MEDIATOR)
	$(BENCH_MEDIATOR) $(BENCH_ARGS)

# glmark2 through vgpu-mediator's vtest socket and through virglrenderer's own server, same run (BENCH_VTEST_ARGS:
# e.g. --reps 5 --clients 2).
bench-vtest: deps
	@$(MAKE) --no-print-directory $(MEDIATOR) $(BENCH_VTEST)
	$(BENCH_VTEST) $(BENCH_VTEST_ARGS)

# A lab's database made up (BENCH_LAB_ARGS: hosts and nights, default 20 60), on SQLite and on a private
# PostgreSQL server: one run's store time on each, and report --lab's time over it.
$(BENCH_LAB): tools/bench_lab.c $(HARNESS_SRC) $(HARNESS_HDR) $(STAGE_HIST_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ tools/bench_lab.c $(HARNESS_SRC) $(STAGE_HIST_SRC) $(HARNESS_LIBS)

bench-lab: deps
	@$(MAKE) --no-print-directory $(VGPUBENCH) $(BENCH_LAB)
	bash tools/bench_lab.sh $(BUILD) $(BENCH_LAB_ARGS)

# What the trends' change-point defaults catch and make up, on generated series at the CVs measured here
# (docs/trends.md).
$(CP_RATES): tools/changepoint_rates.c tools/series_gen.h harness/analysis/changepoint.c \
	harness/analysis/changepoint.h $(STATS_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools -o $@ tools/changepoint_rates.c harness/analysis/changepoint.c $(STATS_SRC) -lm

bench-changepoints: $(CP_RATES)
	@for cv in 1 2 3; do for after in 3 6 30; do \
		$(CP_RATES) --cv $$cv --step 5 --nights 60 --after $$after; done; done
	@$(CP_RATES) --cv 2 --step 2 --nights 60 --after 30
	@$(CP_RATES) --cv 2 --step 10 --nights 60 --after 3

bench: bench-mediator bench-vtest bench-lab bench-changepoints

# The change points an independent NumPy/SciPy implementation finds in fixed series, which changepoint_test requires
# of the C code (Debian's python3-scipy, installed here; make test never needs it).
changepoint-fixtures:
	@bash scripts/deps.sh fixtures
	/usr/bin/python3 tools/changepoint_reference.py tests/fixtures/changepoints/reference.txt

# libFuzzer targets (clang), each run briefly by make test from its seed corpus.
$(BUILD)/fuzz/%_fuzz: mediator/fuzz/%_fuzz.c $(MEDIATOR_LIB_SRC) $(MEDIATOR_TEST_SRC) \
	$(wildcard mediator/*.h mediator/*/*.h tools/*.h) \
	$(COMMON_HDR)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Imediator -Itools -o $@ $< \
		$(MEDIATOR_LIB_SRC) $(MEDIATOR_TEST_SRC) $(MEDIATOR_LIBS)

# Long fuzzing: every target FUZZ_SECONDS each, its corpus kept under build/fuzz/corpus (make test keeps its
# short runs from the seeds alone).
FUZZ_SECONDS ?= 300
fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZERS)
	@bash scripts/fuzz.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZERS)

# Unit and protocol tests run under ASan+UBSan; the integration test boots a
# real TCG guest with the release agent inside. The tests run one at a time.
test: deps
	@$(MAKE) -j$(JOBS) --no-print-directory build $(AGENT_SAN) $(TESTS_SAN) $(FUZZERS) $(TESTS_TSAN) $(MEDIATOR_TSAN)
	@bash tests/run-tests.sh $(BUILD) $(TESTS_SAN) $(TESTS_TSAN) $(FUZZERS)

# The inner loop: every test program (ASan+UBSan and TSan) but the one that reboots guests, no fuzzers and none of
# the shell tests that run the harness end to end. A few minutes; make test is still what counts.
CHECK_SAN := $(filter-out $(BUILD)/san/reset_guest_test,$(TESTS_SAN))
check: deps
	@$(MAKE) -j$(JOBS) --no-print-directory build $(AGENT_SAN) $(CHECK_SAN) $(TESTS_TSAN) $(MEDIATOR_TSAN)
	@bash tests/run-tests.sh --programs-only $(BUILD) $(CHECK_SAN) $(TESTS_TSAN)

format:
	clang-format -i common/*.[ch] guest-agent/*.[ch] harness/*.[ch] harness/*/*.[ch] workloads/*.[ch] \
		workloads/*/*_workload.c tests/*/*.[ch] \
		tests/unit/*/*.c mediator/*.[ch] mediator/*/*.[ch] mediator/render/backend/*.c tools/*.[ch] mediator/fuzz/*.c

clean:
	rm -rf $(BUILD)
