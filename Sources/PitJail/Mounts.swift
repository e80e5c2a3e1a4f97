import CPitShim
import Glibc
import SystemPackage

/// The jail's file system, built in the child's private mount namespace and then pivoted into.
///
/// Every mount goes through file descriptors (`/proc/self/fd/N`): sources are opened before anything is
/// mounted, and destinations are walked one component at a time with O_NOFOLLOW, so a symlink planted in
/// a writable bind can never redirect a later mount (no TOCTOU between check and mount).
enum Mounts {
    /// Where the new root is assembled. Any existing directory works: it is covered only inside the
    /// jail's own mount namespace, and every bind source is opened before the covering mount.
    static let staging = "/tmp"

    static func makePrivate() throws(JailError) {
        // Without this, our mounts would propagate back to the host through shared peer groups.
        guard mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else { throw .sys("make / private", "/") }
    }

    /// Assembles the root at `staging`: the base (tmpfs or read-only chroot), the declared mounts, /proc, /dev,
    /// the merged-/usr symlinks, and finally turns the base read-only.
    static func build(_ root: RootSpec) throws(JailError) {
        // Open every source first: after the base covers `staging`, paths under it would resolve differently.
        // (Plain arrays and loops here: this runs on every launch, and each generic wrapper type
        // such as a Dictionary or Zip2Sequence costs a runtime metadata instantiation.)
        var sources: [FileDescriptor?] = []
        defer { for fd in sources { try? fd?.close() } }
        for mount in root.mounts {
            if case .bind(let source, _, _) = mount {
                sources.append(try openPath(source, step: "bind"))
            } else {
                sources.append(nil)
            }
        }
        var deviceSources: [FileDescriptor] = []
        defer { for fd in deviceSources { try? fd.close() } }
        for name in devices { deviceSources.append(try openPath("/dev/" + name, step: "dev")) }

        if let chroot = root.chroot {
            let fd = try openPath(chroot, step: "chroot")
            defer { try? fd.close() }
            try bindFD(fd, onto: staging, step: "chroot", path: chroot)
        } else {
            guard mount("tmpfs", staging, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=0755,size=1m") == 0 else {
                throw .sys("mount tmpfs root", staging)
            }
        }
        let rootFD = try openDirectory(staging)
        defer { try? rootFD.close() }
        let writableBase = root.chroot == nil

        // /proc for the new PID namespace. In a user namespace this must happen before the old root is
        // detached: the kernel refuses a new procfs unless a fully visible one exists (mnt_too_revealing).
        let proc = try makeMountpoint("/proc", in: rootFD, directory: true, create: writableBase)
        guard mount("proc", fdPath(proc), "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil) == 0 else {
            try? proc.close()
            throw .sys("mount proc", "/proc")
        }
        try? proc.close()

        // /dev before the declared mounts, so a bind into it (/dev/log for Samba's audit) lands on top of it;
        // it turns read-only after them.
        try buildDev(in: rootFD, sources: deviceSources, create: writableBase)

        // Parents before children: a bind at /usr must not cover a mount already made at /usr/lib/x.
        var order = Array(root.mounts.indices)
        let depths = root.mounts.map { depth($0.destination) }
        order.sort { depths[$0] < depths[$1] || (depths[$0] == depths[$1] && $0 < $1) }
        for index in order {
            switch root.mounts[index] {
            case .bind(let source, let destination, let writable):
                let sourceFD = sources[index]!
                let isDirectory = try isDirectoryFD(sourceFD, path: source)
                let target = try makeMountpoint(destination, in: rootFD, directory: isDirectory, create: writableBase)
                defer { try? target.close() }
                try bindFD(sourceFD, ontoFD: target, step: "bind", path: source)
                let flags = writable ? MS_NOSUID | MS_NODEV : MS_RDONLY | MS_NOSUID | MS_NODEV
                try remount(destination, in: rootFD, directory: isDirectory, flags: UInt(flags), step: writable ? "bind-rw" : "bind")
            case .tmpfs(let destination, let size):
                let target = try makeMountpoint(destination, in: rootFD, directory: true, create: writableBase)
                defer { try? target.close() }
                guard mount("tmpfs", fdPath(target), "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=1777,size=\(size)") == 0 else {
                    throw .sys("tmpfs", destination)
                }
            }
        }


        let devFD = try openDirectory("/dev", in: rootFD)
        defer { try? devFD.close() }
        guard mount(nil, fdPath(devFD), nil, UInt(MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC), nil) == 0 else {
            throw .sys("remount read-only", "/dev")
        }

        if writableBase {
            for link in root.usrSymlinks where !root.mounts.contains(where: { $0.destination == "/" + link.name }) {
                guard symlinkat(link.target, rootFD.rawValue, link.name) == 0 || Glibc.errno == EEXIST else {
                    throw .sys("symlink", "/" + link.name)
                }
            }
            // The tmpfs root itself becomes read-only: the jail writes only where a bind-rw or tmpfs says so.
            guard mount(nil, staging, nil, UInt(MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV), nil) == 0 else {
                throw .sys("remount root read-only", "/")
            }
        }
    }

    /// A minimal /dev: a small tmpfs holding bind mounts of the host's harmless character devices.
    /// Binding (not mknod) works inside a user namespace too.
    static let devices = ["null", "zero", "full", "random", "urandom"]

    private static func buildDev(in rootFD: FileDescriptor, sources: [FileDescriptor], create: Bool) throws(JailError) {
        let dev = try makeMountpoint("/dev", in: rootFD, directory: true, create: create)
        defer { try? dev.close() }
        guard mount("tmpfs", fdPath(dev), "tmpfs", UInt(MS_NOSUID | MS_NOEXEC), "mode=0755,size=64k") == 0 else {
            throw .sys("mount tmpfs", "/dev")
        }
        let devFD = try openDirectory("/dev", in: rootFD)
        defer { try? devFD.close() }
        for i in 0..<devices.count {
            let name = devices[i], source = sources[i]
            let fd = openat(devFD.rawValue, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o666)
            guard fd >= 0 else { throw .sys("create", "/dev/" + name) }
            close(fd)
            let target = openat(devFD.rawValue, name, PIT_O_PATH | O_NOFOLLOW | O_CLOEXEC)
            guard target >= 0 else { throw .sys("open", "/dev/" + name) }
            defer { close(target) }
            try bindFD(source, ontoFD: FileDescriptor(rawValue: target), step: "bind", path: "/dev/" + name)
        }
        let links = ["fd", "stdin", "stdout", "stderr"], targets = ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"]
        for i in 0..<links.count {
            guard symlinkat(targets[i], devFD.rawValue, links[i]) == 0 else { throw .sys("symlink", "/dev/" + links[i]) }
        }
    }

    /// pivot_root into `staging` and detach the old root, so no path leads back to the host.
    static func pivot() throws(JailError) {
        guard chdir(staging) == 0 else { throw .sys("chdir", staging) }
        // pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then removes it.
        // This needs no directory for the old root inside a read-only new root.
        guard pit_pivot_root(".", ".") == 0 else { throw .sys("pivot_root", staging) }
        guard umount2(".", Int32(MNT_DETACH)) == 0 else { throw .sys("detach old root", "/") }
        guard chdir("/") == 0 else { throw .sys("chdir", "/") }
    }

    // MARK: - helpers

    private static func depth(_ path: String) -> Int { path.split(separator: "/").count }

    static func fdPath(_ fd: FileDescriptor) -> String { "/proc/self/fd/\(fd.rawValue)" }

    private static func openPath(_ path: String, step: String) throws(JailError) -> FileDescriptor {
        // Host-side sources may be symlinks (the administrator chose them); PIT_O_PATH pins what they point to now.
        let fd = open(path, PIT_O_PATH | O_CLOEXEC)
        guard fd >= 0 else { throw .sys(step, path) }
        return FileDescriptor(rawValue: fd)
    }

    private static func openDirectory(_ path: String) throws(JailError) -> FileDescriptor {
        let fd = open(path, PIT_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .sys("open", path) }
        return FileDescriptor(rawValue: fd)
    }

    /// Opens a directory inside the new root without following any symlink.
    private static func openDirectory(_ path: String, in rootFD: FileDescriptor) throws(JailError) -> FileDescriptor {
        try makeMountpoint(path, in: rootFD, directory: true, create: false)
    }

    private static func isDirectoryFD(_ fd: FileDescriptor, path: String) throws(JailError) -> Bool {
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else { throw .sys("stat", path) }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Walks `path` under `rootFD` one component at a time, refusing symlinks, creating missing
    /// directories (and the final file for a file bind) when the base is writable.
    private static func makeMountpoint(_ path: String, in rootFD: FileDescriptor, directory: Bool, create: Bool) throws(JailError) -> FileDescriptor {
        let components = path.split(separator: "/").map(String.init)
        var current = dup(rootFD.rawValue)
        guard current >= 0 else { throw .sys("dup", path) }
        for (i, name) in components.enumerated() {
            let isLast = i == components.count - 1
            let wantDirectory = !isLast || directory
            var next = openat(current, name, PIT_O_PATH | O_NOFOLLOW | O_CLOEXEC | (wantDirectory ? O_DIRECTORY : 0))
            if next < 0 && Glibc.errno == ENOENT && create {
                let made: Int32
                if wantDirectory {
                    made = mkdirat(current, name, 0o755)
                } else {
                    let file = openat(current, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o644)
                    made = file >= 0 ? close(file) : -1
                }
                guard made == 0 || Glibc.errno == EEXIST else {
                    let saved = Glibc.errno
                    close(current)
                    throw JailError("mkdir", path: path, errno: saved)
                }
                next = openat(current, name, PIT_O_PATH | O_NOFOLLOW | O_CLOEXEC | (wantDirectory ? O_DIRECTORY : 0))
            }
            let saved = Glibc.errno
            close(current)
            guard next >= 0 else {
                // ENOTDIR here also means "a symlink where a directory was expected": refuse, never follow.
                if saved == ENOENT && !create {
                    throw JailError("mountpoint", path: path, errno: saved, detail: "missing in the read-only chroot")
                }
                throw JailError("mountpoint", path: path, errno: saved)
            }
            current = next
        }
        if !directory {
            var st = stat()
            if fstat(current, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
                close(current)
                throw JailError("mountpoint", path: path, errno: ELOOP)
            }
        }
        return FileDescriptor(rawValue: current)
    }

    private static func bindFD(_ source: FileDescriptor, onto path: String, step: String, path shown: String) throws(JailError) {
        guard mount(fdPath(source), path, nil, UInt(MS_BIND), nil) == 0 else { throw .sys(step, shown) }
        try remount(path: path, flags: UInt(MS_RDONLY | MS_NOSUID | MS_NODEV), step: step, shown: shown)
    }

    private static func bindFD(_ source: FileDescriptor, ontoFD target: FileDescriptor, step: String, path: String) throws(JailError) {
        guard mount(fdPath(source), fdPath(target), nil, UInt(MS_BIND), nil) == 0 else { throw .sys(step, path) }
    }

    /// Re-opens the destination (now the root of the new mount) and remounts it with `flags`.
    private static func remount(_ destination: String, in rootFD: FileDescriptor, directory: Bool, flags: UInt, step: String) throws(JailError) {
        let fd = try makeMountpoint(destination, in: rootFD, directory: directory, create: false).rawValue
        defer { close(fd) }
        try remount(path: "/proc/self/fd/\(fd)", flags: flags, step: step, shown: destination)
    }

    private static func remount(path: String, flags: UInt, step: String, shown: String) throws(JailError) {
        // Keep the flags the source mount already has: inside a user namespace they are locked and
        // dropping one (nosuid, noexec, ro...) is refused with EPERM.
        var fs = statvfs()
        var locked: UInt = 0
        if statvfs(path, &fs) == 0 {
            let mapping: [(UInt, Int)] = [(PIT_ST_NOSUID, Int(MS_NOSUID)), (PIT_ST_NODEV, Int(MS_NODEV)), (PIT_ST_NOEXEC, Int(MS_NOEXEC)),
                                          (PIT_ST_RDONLY, Int(MS_RDONLY)), (PIT_ST_NOATIME, Int(MS_NOATIME)),
                                          (PIT_ST_NODIRATIME, Int(MS_NODIRATIME)), (PIT_ST_RELATIME, Int(MS_RELATIME))]
            for (st, ms) in mapping where fs.f_flag & st != 0 { locked |= UInt(ms) }
        }
        guard mount(nil, path, nil, UInt(MS_REMOUNT | MS_BIND) | flags | locked, nil) == 0 else {
            throw .sys("remount " + (flags & UInt(MS_RDONLY) != 0 ? "read-only" : "nosuid,nodev") + " (\(step))", shown)
        }
    }
}
