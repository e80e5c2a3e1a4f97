import CPitShim
import Glibc

/// The jail's file system, built in the child's private mount namespace and then pivoted into.
///
/// Every mount goes through file descriptors (`/proc/self/fd/N`): sources are opened before anything is
/// mounted, and destinations are walked one component at a time with O_NOFOLLOW, so a symlink planted in
/// a writable bind can never redirect a later mount (no TOCTOU between check and mount).
enum Mounts {
    /// Where the new root is assembled. Any existing directory works: it is covered only inside the
    /// jail's own mount namespace, and every bind source is opened before the covering mount.
    static let staging = "/tmp"

    static func makePrivate(_ program: inout ChildProgram) {
        // Without this, our mounts would propagate back to the host through shared peer groups.
        program.mount(on: .path("/"), flags: MS_REC | MS_PRIVATE, step: "make / private", path: "/")
    }

    /// Assembles the root at `staging`: the base (tmpfs or read-only chroot), the declared mounts, /proc, /dev,
    /// the merged-/usr symlinks, and finally turns the base read-only.
    /// `deviceNodes`: make /dev's devices with mknod (the jail's init still holds CAP_MKNOD in the host's user
    /// namespace) rather than bind mounts, which each cost a mount and a mountpoint walk; inside a user
    /// namespace mknod is refused, so they are bound from the host.
    static func build(_ root: RootSpec, deviceNodes: Bool, _ program: inout ChildProgram) {
        // Open every source first: after the base covers `staging`, paths under it would resolve differently.
        // Slot numbers (-1: none).
        var sources: [Int32] = []
        for mount in root.mounts {
            if case .bind(let source, _, _) = mount {
                sources.append(openPath(source, step: "bind", strict: root.strictSources.contains(source), &program).index)
            } else {
                sources.append(-1)
            }
        }
        var deviceSources: [Int32] = []
        if !deviceNodes {
            for name in devices { deviceSources.append(openPath("/dev/" + name, step: "dev", &program).index) }
        }

        if let chroot = root.chroot {
            let base = openPath(chroot, step: "chroot", &program)
            program.mount(.slot(base), on: .path(staging), flags: MS_BIND, step: "chroot", path: chroot)
            program.mount(on: .path(staging), flags: MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, keepLockedFlags: true,
                          step: "remount read-only (chroot)", path: chroot)
            program.close(base)
        } else {
            program.mount(.name("tmpfs"), on: .path(staging), type: "tmpfs", data: "mode=0755,size=1m",
                          flags: MS_NOSUID | MS_NODEV, step: "mount tmpfs root", path: staging)
        }
        let rootFD = program.allocateSlot()
        program.open(staging, into: rootFD, directory: true, step: "open")
        let writableBase = root.chroot == nil

        // /proc for the new PID namespace. In a user namespace this must happen before the old root is
        // detached: the kernel refuses a new procfs unless a fully visible one exists (mnt_too_revealing).
        if root.mountProc {
            let proc = mountpoint("/proc", in: rootFD, directory: true, create: writableBase, &program)
            program.mount(.name("proc"), on: .slot(proc), type: "proc", flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          step: "mount proc", path: "/proc")
            program.close(proc)
            guardProc(in: rootFD, &program)
        }

        // /dev before the declared mounts, so a bind into it (/dev/log for Samba's audit) lands on top of it;
        // it turns read-only after them.
        buildDev(in: rootFD, sources: deviceSources, create: writableBase, &program)

        // Parents before children: a bind at /usr must not cover a mount already made at /usr/lib/x.
        let order = root.mounts.indices.sorted {
            (depth(root.mounts[$0].destination), $0) < (depth(root.mounts[$1].destination), $1)
        }
        for index in order {
            switch root.mounts[index] {
            case .bind(let source, let destination, let writable):
                let sourceFD = ChildProgram.Slot(index: sources[index])
                let target = mountpoint(destination, in: rootFD, likeSource: sourceFD, create: writableBase, &program)
                program.mount(.slot(sourceFD), on: .slot(target), flags: MS_BIND, step: "bind", path: source)
                program.close(target)
                // Re-open the destination, now the root of the new mount, and remount it keeping the flags the
                // source mount has: inside a user namespace they are locked and dropping one is refused.
                let mounted = mountpoint(destination, in: rootFD, likeSource: sourceFD, create: false, &program)
                let flags = writable ? MS_NOSUID | MS_NODEV : MS_RDONLY | MS_NOSUID | MS_NODEV
                let step = writable ? "remount nosuid,nodev (bind-rw)" : "remount read-only (bind)"
                program.mount(on: .slot(mounted), flags: MS_REMOUNT | MS_BIND | flags, keepLockedFlags: true, step: step, path: destination)
                program.close(mounted)
                program.close(sourceFD)
            case .tmpfs(let destination, let size):
                let target = mountpoint(destination, in: rootFD, directory: true, create: writableBase, &program)
                program.mount(.name("tmpfs"), on: .slot(target), type: "tmpfs", data: "mode=1777,size=\(size)",
                              flags: MS_NOSUID | MS_NODEV, step: "tmpfs", path: destination)
                program.close(target)
            }
        }

        let devFD = mountpoint("/dev", in: rootFD, directory: true, create: false, &program)
        program.mount(on: .slot(devFD), flags: MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
                      step: "remount read-only", path: "/dev")
        program.close(devFD)

        if writableBase {
            for link in root.usrSymlinks where !root.mounts.contains(where: { $0.destination == "/" + link.name }) {
                program.symlink(link.name, to: link.target, in: rootFD, existingIsFine: true, path: "/" + link.name)
            }
            // Declared symlinks (NsJail's --symlink), their directories made in the tmpfs root as needed.
            for link in root.symlinks {
                let parent = String(link.path[..<link.path.lastIndex(of: "/")!])
                let name = String(link.path[link.path.index(after: link.path.lastIndex(of: "/")!)...])
                let directory = parent.isEmpty ? nil : mountpoint(parent, in: rootFD, directory: true, create: true, &program)
                program.symlink(name, to: link.target, in: directory ?? rootFD, path: link.path)
                if let directory { program.close(directory) }
            }
            // The tmpfs root itself becomes read-only: the jail writes only where a bind-rw or tmpfs says so.
            program.mount(on: .path(staging), flags: MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                          step: "remount root read-only", path: "/")
        }
        program.close(rootFD)
        for source in deviceSources { program.close(ChildProgram.Slot(index: Int32(source))) }
    }

    /// /proc's kernel knobs, read-only in every jail: /proc/sys checks only for uid 0, not for a capability, so
    /// root in a jail without a user namespace could otherwise write kernel.core_pattern (a `|program` there runs
    /// as host root on the next crash anywhere), kernel.poweroff_cmd, the hostname, vm.*, net.*. The strictest
    /// of runc's lists (readonlyPaths, maskedPaths), bubblewrap's and NsJail's: runc's, plus the raw page maps,
    /// the kernel log and the key owners.
    static let procReadOnly = ["sys", "sysrq-trigger", "irq", "bus", "fs", "asound"]
    /// Masked: kernel memory, other users' keys, timers and scheduler state of the whole machine (side channels),
    /// hardware trees; a file gets /dev/null over it, a directory an empty read-only tmpfs.
    static let procMasked = ["kcore", "keys", "key-users", "timer_list", "timer_stats", "sched_debug", "latency_stats",
                             "acpi", "scsi", "kmsg", "kpagecount", "kpageflags", "kpagecgroup"]

    /// Applies those lists to the jail's fresh procfs (at /proc under `rootFD`), before anything of the jail runs.
    /// Masking makes the procfs "not fully visible", which also stops a nested user namespace from mounting a
    /// procfs of its own (the kernel's mnt_too_revealing check): that is wanted.
    static func guardProc(in rootFD: ChildProgram.Slot, _ program: inout ChildProgram) {
        let null = openPath("/dev/null", step: "open", &program)
        let proc = mountpoint("/proc", in: rootFD, directory: true, create: false, &program)
        for name in procReadOnly {
            program.guardProc(name, under: proc, .readOnly, step: "remount read-only", path: "/proc/" + name)
        }
        for name in procMasked {
            program.guardProc(name, under: proc, .mask(null: null), step: "mask", path: "/proc/" + name)
        }
        program.close(proc)
        program.close(null)
    }

    /// A minimal /dev: a small tmpfs holding the harmless character devices, made with mknod or, inside a user
    /// namespace, bound from the host's.
    static let devices = ["null", "zero", "full", "random", "urandom"]
    /// Their numbers (major 1, "mem" devices), fixed by the kernel's ABI (Documentation/admin-guide/devices.txt).
    static let deviceMinors: [UInt64] = [3, 5, 7, 8, 9]

    private static func buildDev(in rootFD: ChildProgram.Slot, sources: [Int32], create: Bool, _ program: inout ChildProgram) {
        let dev = mountpoint("/dev", in: rootFD, directory: true, create: create, &program)
        program.mount(.name("tmpfs"), on: .slot(dev), type: "tmpfs", data: "mode=0755,size=64k",
                      flags: MS_NOSUID | MS_NOEXEC, step: "mount tmpfs", path: "/dev")
        program.close(dev)
        let devFD = mountpoint("/dev", in: rootFD, directory: true, create: false, &program)
        for i in 0..<devices.count {
            let path = "/dev/" + devices[i]
            if sources.isEmpty {
                program.makeCharacterDevice(devices[i], in: devFD, major: 1, minor: deviceMinors[i], path: path)
                continue
            }
            program.createFile(devices[i], in: devFD, mode: 0o666, path: path)
            let target = mountpoint(devices[i], in: devFD, directory: false, create: false, &program)
            program.mount(.slot(ChildProgram.Slot(index: sources[i])), on: .slot(target), flags: MS_BIND, step: "bind", path: path)
            program.close(target)
        }
        let links = ["fd", "stdin", "stdout", "stderr"], targets = ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"]
        for i in 0..<links.count {
            program.symlink(links[i], to: targets[i], in: devFD, path: "/dev/" + links[i])
        }
        program.close(devFD)
    }

    /// pivot_root into `staging` and detach the old root, so no path leads back to the host.
    static func pivot(_ program: inout ChildProgram) {
        program.chdir(staging)
        // pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then removes it.
        // This needs no directory for the old root inside a read-only new root.
        program.pivotRoot(path: staging)
        program.unmount(".", flags: Int32(MNT_DETACH), step: "detach old root", path: "/")
        program.chdir("/")
    }

    // MARK: - helpers

    /// The number of components of `path`.
    private static func depth(_ path: String) -> Int {
        path.split(separator: "/").count
    }

    /// Host-side sources may be symlinks (the administrator chose them); O_PATH pins what they point to now.
    /// `strict`: a path others than root can write along, where no symlink is followed (RootSpec.strictSources).
    private static func openPath(_ path: String, step: String, strict: Bool = false, _ program: inout ChildProgram) -> ChildProgram.Slot {
        let slot = program.allocateSlot()
        program.open(path, into: slot, noSymlinks: strict, step: step,
                     detail: strict ? "others than root may write along this path, so no symlink in it is followed" : nil)
        return slot
    }

    /// Walks `path` under `rootFD` one component at a time, refusing symlinks, creating missing
    /// directories (and the final file for a file bind) when the base is writable.
    private static func mountpoint(_ path: String, in rootFD: ChildProgram.Slot, directory: Bool, create: Bool,
                                   _ program: inout ChildProgram) -> ChildProgram.Slot {
        let slot = program.allocateSlot()
        program.mountpoint(path, under: rootFD, kind: directory ? .directory : .file, create: create, into: slot)
        return slot
    }

    /// The same, a directory or a file like the bind's source.
    private static func mountpoint(_ path: String, in rootFD: ChildProgram.Slot, likeSource source: ChildProgram.Slot,
                                   create: Bool, _ program: inout ChildProgram) -> ChildProgram.Slot {
        let slot = program.allocateSlot()
        program.mountpoint(path, under: rootFD, kind: .like(source), create: create, into: slot)
        return slot
    }
}
