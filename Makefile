# effv2vk: the two commands are `make demo` (train) and `make test`.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export XDG_RUNTIME_DIR ?= /tmp/effv2vk-xdg-$(shell id -u)

# Tests run on lavapipe (Mesa's CPU Vulkan driver) unless told otherwise.
LAVAPIPE := /usr/share/vulkan/icd.d/lvp_icd.x86_64.json
TEST_ENV := VK_DRIVER_FILES=$${VK_DRIVER_FILES:-$(LAVAPIPE)} EFFV2VK_VALIDATE=1

.PHONY: deps test spirv-check vet gotest gotest-switches gotest-gpu-choices gotest-subgroups demo build bench xdg

deps:
	@scripts/deps.sh

xdg:
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)

build:
	go build -o bin/effv2vk ./cmd/effv2vk

# Regenerating the SPIR-V must change nothing: a .comp edited without
# `go generate ./...` fails here.
spirv-check:
	go generate ./...
	@git diff --exit-code -- shaders/ || { echo "spirv-check: generated SPIR-V is stale: run 'go generate ./...' and commit" >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- shaders/); \
	  if [ -n "$$untracked" ]; then echo "spirv-check: untracked generated files: $$untracked" >&2; exit 1; fi

vet:
	go vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi

# -count=1: a cached pass must not survive a removed driver or layer.
gotest: xdg
	$(TEST_ENV) go test -count=1 -timeout 60m ./...
	$(MAKE) --no-print-directory gotest-switches

# The engine, the optimizers and the network's parity tests once more with
# lavapipe behaving like a discrete GPU: tensors not host-mapped (staging
# transfers), a 16 MiB binding limit (below efficientnetv2-s's 86 MB
# parameter tensor, so updates are split), AMD's 4-byte offset alignment;
# and the pipelined training loop, with its host slots in upload memory and
# its tensors unmapped.
SWITCHES := EFFV2VK_FORCE_STAGING=1 EFFV2VK_MAX_STORAGE_RANGE=16777216 EFFV2VK_OFFSET_ALIGNMENT=4
gotest-switches: xdg
	$(TEST_ENV) $(SWITCHES) go test -count=1 -timeout 60m ./engine/... ./optim
	$(TEST_ENV) $(SWITCHES) go test -count=1 -timeout 60m -run 'TestParityPico|TestParityS$$' ./net
	$(TEST_ENV) $(SWITCHES) go test -count=1 -timeout 30m -run 'TestPipelinedStepsAreBitwiseSynchronous$$' ./train

# The configurations ops/ picks only on GPUs (workgroups of 64 to 256
# invocations, eight 8-lane clusters per conv2d and pointwise workgroup, one
# depthwise tile per invocation, chunked split-K weight gradients), taken on
# lavapipe by EFFV2VK_GPU_CHOICES=1: the kernels that change shape, at
# subgroup widths 4, 8 and 16 (at 16 two clusters share a subgroup), and the
# small network's PyTorch parity.
GPU_CHOICE_OPS := TestBatchNorm(TrainForward|RunningAndEval|Backward|BackwardFiniteDifference)$$|TestConv2D$$|TestConv2DFiniteDifference$$|TestPointwise(RandomShapes|Tilings|RealShapes|FiniteDifferences)$$|TestDepthwise(EfficientNetShapes|FiniteDifferences)$$|TestElementwise$$|TestBatchSplitMatchesWholeBatch$$|TestFusedForwardMatchesUnfused$$|TestLinearSplitMatchesReference$$
gotest-gpu-choices: xdg
	for width in 128 256 512; do \
	  LP_NATIVE_VECTOR_WIDTH=$$width EFFV2VK_GPU_CHOICES=1 $(TEST_ENV) go test -count=1 -timeout 30m -run '$(GPU_CHOICE_OPS)' ./ops || exit 1; \
	done
	EFFV2VK_GPU_CHOICES=1 $(TEST_ENV) go test -count=1 -timeout 30m -run 'TestParityPico$$' ./net

# No kernel may assume a subgroup width: lavapipe's LP_NATIVE_VECTOR_WIDTH
# 128 and 512 give subgroups of 4 and 16 (gotest runs at the default 8): the
# whole ops and net suites, and the engine's subgroup tests, at each.
gotest-subgroups: xdg
	for width in 128 512; do \
	  LP_NATIVE_VECTOR_WIDTH=$$width $(TEST_ENV) go test -count=1 -timeout 60m ./ops ./net || exit 1; \
	  LP_NATIVE_VECTOR_WIDTH=$$width $(TEST_ENV) go test -count=1 -timeout 30m -run 'TestSubgroupSizes|TestRequiredSubgroupSize' ./engine || exit 1; \
	done

test: deps spirv-check vet gotest gotest-gpu-choices gotest-subgroups

# effv2vk vs PyTorch CPU on the same training step, alternating runs.
bench: build xdg
	scripts/bench.sh

# The main job: train the default model (efficientnetv2-pico) on
# Fashion-MNIST with progressive learning, then evaluate it. Each
# `make demo` starts over in runs/demo (--overwrite).
demo: deps build xdg
	bin/effv2vk devices
	bin/effv2vk train --overwrite --out runs/demo
	bin/effv2vk eval --checkpoint runs/demo
