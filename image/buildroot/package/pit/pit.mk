################################################################################
#
# pit
#
################################################################################

# Pit's own source tree (this file is image/buildroot/package/pit/pit.mk in it). Only its data files are
# used: Buildroot has no Swift toolchain, the executable is prebuilt (BR2_PACKAGE_PIT_PREBUILT).
# `pit --version` says the commit (Package.swift reads it at build time); this is the release it belongs to.
PIT_VERSION = $(shell sed -n 's/^let release = "\(.*\)"/\1/p' $(BR2_EXTERNAL_PIT_PATH)/../../Package.swift)
PIT_LICENSE = Apache-2.0 (pit), LGPL-2.1 (libseccomp, statically linked), LGPL-2.1+ (libgpiod, glibc, statically linked), BSD-3-Clause (libcap), Apache-2.0 (OpenSSL, Swift runtime), Zlib (zlib)
PIT_LICENSE_FILES = LICENSE THIRD_PARTY_NOTICES.md
PIT_SITE = $(realpath $(BR2_EXTERNAL_PIT_PATH)/../..)
PIT_SITE_METHOD = local
# The local method rsyncs the tree into the build directory: not the multi-gigabyte SwiftPM build output.
PIT_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude .build --exclude '.build-*' --exclude Tests

ifeq ($(BR2_aarch64),y)
PIT_SWIFT_ARCH = aarch64
PIT_ELF_MACHINE = AArch64
else ifeq ($(BR2_arm),y)
PIT_SWIFT_ARCH = armv7
PIT_ELF_MACHINE = ARM
else
PIT_SWIFT_ARCH = x86_64
PIT_ELF_MACHINE = X86-64
endif

PIT_PREBUILT = $(call qstrip,$(BR2_PACKAGE_PIT_PREBUILT))
ifeq ($(PIT_PREBUILT),)
ifeq ($(PIT_SWIFT_ARCH),x86_64)
PIT_PREBUILT = $(PIT_SITE)/.build/release/pit
else
PIT_PREBUILT = $(PIT_SITE)/.build/pit-$(PIT_SWIFT_ARCH)
endif
endif
PIT_BOARD = $(call qstrip,$(BR2_PACKAGE_PIT_BOARD))

# Refuse a missing executable, one for another architecture, or a dynamic one (the target has none of
# libseccomp, libcap, libgpiod or the Swift runtime as shared libraries).
define PIT_BUILD_CMDS
	@test -f "$(PIT_PREBUILT)" || { echo "pit: no prebuilt executable at $(PIT_PREBUILT): run image/cross-build $(PIT_SWIFT_ARCH) in Pit's tree, or set BR2_PACKAGE_PIT_PREBUILT"; exit 1; }
	@$(TARGET_READELF) -h "$(PIT_PREBUILT)" | grep -q "Machine:.*$(PIT_ELF_MACHINE)" || { echo "pit: $(PIT_PREBUILT) is not a $(PIT_ELF_MACHINE) executable"; exit 1; }
	@! $(TARGET_READELF) -l "$(PIT_PREBUILT)" | grep -q "INTERP" || { echo "pit: $(PIT_PREBUILT) is dynamically linked: build it with -static-executable (image/cross-build does)"; exit 1; }
	@test -f "$(@D)/board/$(PIT_BOARD).toml" || { echo "pit: no board file board/$(PIT_BOARD).toml"; exit 1; }
endef

# The device config is the appliance (image/rootfs/etc/pit/device.toml): the persona, an example the vendor
# edits, with its decoy templates, and the Samba jails (specs and policies side by side, as the specs name
# them). The stand-in decoy without Samba stays installed as an example device config (examples/).
PIT_SAMBA_JAIL_FILES = dcerpcd.toml dcerpcd.policy smbd.toml smbd.policy nmbd.toml nmbd.policy
define PIT_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(PIT_PREBUILT) $(TARGET_DIR)/usr/sbin/pit
	$(INSTALL) -d -m 0755 $(TARGET_DIR)/etc/pit/jails $(TARGET_DIR)/etc/pit/samba $(TARGET_DIR)/etc/pit/examples
	$(INSTALL) -D -m 0644 $(@D)/image/rootfs/etc/pit/device.toml $(TARGET_DIR)/etc/pit/device.toml
	$(INSTALL) -D -m 0644 $(@D)/board/$(PIT_BOARD).toml $(TARGET_DIR)/etc/pit/board.toml
	$(INSTALL) -D -m 0644 $(@D)/policies/persona.example.toml $(TARGET_DIR)/etc/pit/persona.toml
	rsync -a $(@D)/policies/decoys/ $(TARGET_DIR)/etc/pit/decoys/
	$(INSTALL) -m 0644 $(addprefix $(@D)/policies/samba/,$(PIT_SAMBA_JAIL_FILES)) $(TARGET_DIR)/etc/pit/samba/
	$(INSTALL) -m 0644 $(@D)/image/rootfs/etc/pit/examples/decoy-web.toml $(TARGET_DIR)/etc/pit/examples/decoy-web.toml
	$(INSTALL) -m 0644 $(@D)/policies/demo-web.toml $(TARGET_DIR)/etc/pit/jails/decoy-web.toml
	$(INSTALL) -m 0644 $(@D)/policies/demo.policy $(TARGET_DIR)/etc/pit/jails/demo.policy
	mkdir -p $(TARGET_DIR)/usr/share/pit
	rsync -a --exclude recordings $(@D)/policies/ $(TARGET_DIR)/usr/share/pit/policies/
endef

# samba-dcerpcd's jail may execute only its helpers and the ELF interpreter (Landlock `exec` in dcerpcd.toml,
# written with Debian x86_64's path). The target's interpreter is the one samba-dcerpcd names, resolved through
# the target's own (relative) links, since Landlock rule paths are never symlinks: done when the target is
# finalized, after samba4 has installed.
PIT_DCERPCD = $(TARGET_DIR)/usr/libexec/samba/samba-dcerpcd
define PIT_SAMBA_INTERPRETER
	interp=$$($(TARGET_READELF) -l $(PIT_DCERPCD) | sed -n 's/.*interpreter: \(.*\)]/\1/p'); \
	test -n "$$interp" || { echo "pit: no ELF interpreter in $(PIT_DCERPCD) (samba4 >= 4.16 installs it)"; exit 1; }; \
	real=$$(realpath -m --relative-base=$(TARGET_DIR) $(TARGET_DIR)$$interp); real=/$${real#/}; \
	test -f "$(TARGET_DIR)$$real" || { echo "pit: $$interp resolves to $$real, not a file in the target"; exit 1; }; \
	sed -i "s|\"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\"|\"$$real\"|" $(TARGET_DIR)/etc/pit/samba/dcerpcd.toml
endef
PIT_TARGET_FINALIZE_HOOKS += PIT_SAMBA_INTERPRETER

# Man pages and shell completions come from a pit that runs on the build host (what they say does not depend
# on the architecture): Pit's own x86_64 build, when there is one.
PIT_HOST_PIT = $(PIT_SITE)/.build/release/pit
# The file formats' pages (section 5) are hand-written: installed whether or not there is a host build.
define PIT_INSTALL_DOCS
	$(INSTALL) -D -m 0644 -t $(TARGET_DIR)/usr/share/man/man5 $(@D)/image/man/*.5
	if [ -x "$(PIT_HOST_PIT)" ] && "$(PIT_HOST_PIT)" --version >/dev/null 2>&1; then \
		python3 $(@D)/image/gen-man "$(PIT_HOST_PIT)" $(TARGET_DIR)/usr/share/man/man1 && \
		mkdir -p $(TARGET_DIR)/usr/share/bash-completion/completions && \
		"$(PIT_HOST_PIT)" --generate-completion-script bash > $(TARGET_DIR)/usr/share/bash-completion/completions/pit; \
	else \
		echo "pit: no host build at $(PIT_HOST_PIT) (swift build -c release in Pit's tree): no man pages or completions"; \
	fi
endef
PIT_POST_INSTALL_TARGET_HOOKS += PIT_INSTALL_DOCS

ifeq ($(BR2_PACKAGE_PIT_WATCHDOG_OWNER_SYSTEMD),y)
define PIT_WATCHDOG_TO_SYSTEMD
	sed -i '/^\[watchdog\]/a owner = "systemd"' $(TARGET_DIR)/etc/pit/device.toml
	mkdir -p $(TARGET_DIR)/usr/lib/systemd/system.conf.d
	printf '[Manager]\nRuntimeWatchdogSec=%s\n' $(BR2_PACKAGE_PIT_RUNTIME_WATCHDOG_SEC) \
		> $(TARGET_DIR)/usr/lib/systemd/system.conf.d/50-pit-watchdog.conf
endef
PIT_POST_INSTALL_TARGET_HOOKS += PIT_WATCHDOG_TO_SYSTEMD
endif

define PIT_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/image/init/pit.service $(TARGET_DIR)/usr/lib/systemd/system/pit.service
	$(INSTALL) -d $(TARGET_DIR)/usr/lib/systemd/system-preset
	echo "enable pit.service" > $(TARGET_DIR)/usr/lib/systemd/system-preset/50-pit.preset
endef

# busybox init: the respawn line and its companions go into /etc/inittab, which the busybox package
# installs; done when the target is finalized, after every package, and only once.
ifeq ($(BR2_INIT_BUSYBOX),y)
define PIT_INITTAB
	grep -q "^::respawn:/usr/sbin/pit supervise" $(TARGET_DIR)/etc/inittab || \
		{ echo; cat $(PIT_SITE)/image/init/inittab; } >> $(TARGET_DIR)/etc/inittab
endef
PIT_TARGET_FINALIZE_HOOKS += PIT_INITTAB
endif

# SysV init: the same respawn line in sysvinit's inittab format (id:runlevels:action:process).
ifeq ($(BR2_INIT_SYSV),y)
define PIT_SYSV_INITTAB
	grep -q "^pit:.*:respawn:/usr/sbin/pit supervise" $(TARGET_DIR)/etc/inittab || \
		echo "pit:2345:respawn:/usr/sbin/pit supervise --config /etc/pit/device.toml" >> $(TARGET_DIR)/etc/inittab
endef
PIT_TARGET_FINALIZE_HOOKS += PIT_SYSV_INITTAB
endif

define PIT_INSTALL_INIT_OPENRC
	$(INSTALL) -D -m 0755 $(@D)/image/init/pit.openrc $(TARGET_DIR)/etc/init.d/pit
	mkdir -p $(TARGET_DIR)/etc/runlevels/default
	ln -sf /etc/init.d/pit $(TARGET_DIR)/etc/runlevels/default/pit
endef

$(eval $(generic-package))
