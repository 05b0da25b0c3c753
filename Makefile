# SPDX-License-Identifier: GPL-2.0
# make            build rzram.ko against the cached debug test kernel
# make KDIR=...   build against any Rust-enabled kernel build tree
# make check      run the functional tests in QEMU on the debug kernel
# make demo       build the plain kernel and run the writeback demo
# make bench      run the benchmarks on the plain kernel (QUICK=1: one repetition)
# make clippy     build with CLIPPY=1
# make fmt        rustfmt with the kernel's .rustfmt.toml

VARIANT ?= debug
SCRIPTS := $(CURDIR)/scripts
KDIR ?= $(shell bash $(SCRIPTS)/build-kernel.sh $(VARIANT))
KMAKE := LLVM=1 RUSTC=/usr/bin/rustc CLIPPY_DRIVER=/usr/bin/clippy-driver \
	BINDGEN=$(or $(RZRAM_CACHE),/var/cache/rzram)/bindgen-0.71.1/bin/bindgen
export PATH := /usr/lib/llvm-19/bin:$(PATH)

.PHONY: all modules clean check demo bench clippy fmt setup

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE) modules

clippy:
	bash $(SCRIPTS)/build-module.sh $(VARIANT) CLIPPY=1

fmt:
	rustfmt --edition 2021 --config-path $(KDIR)/source/.rustfmt.toml rzram.rs

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE) clean

setup:
	bash $(SCRIPTS)/setup.sh

check:
	bash $(SCRIPTS)/check.sh

demo:
	bash $(SCRIPTS)/demo.sh

bench:
	QUICK=$(QUICK) bash $(SCRIPTS)/bench.sh
