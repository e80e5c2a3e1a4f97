import PitTestSupport
import Glibc
import XCTest

/// Escape attempts, one per class in the house's security rules. Each has a control showing the attempt
/// works outside the jail (or under weaker settings), so a pass means the jail stopped it.
final class EscapeTests: XCTestCase {
    func test_oldRootIsDetached_noHostMountIsVisible() {
        let r = Pit.run(["--bind-rw", "/tmp:/data", "--", "/bin/cat", "/proc/self/mountinfo"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let mountPoints = lines(r.stdout).map { String($0.split(separator: " ")[4]) }
        let allowed: Set<String> = ["/", "/usr", "/data", "/proc", "/dev", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                                    "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]
        // Pit's own guards over /proc's knobs (Mounts.guardProc) are mounts of the jail's procfs or /dev/null.
        let guards = Set(["sys", "sysrq-trigger", "irq", "bus", "fs", "asound", "kcore", "keys", "key-users", "timer_list",
                          "timer_stats", "sched_debug", "latency_stats", "acpi", "scsi", "kmsg", "kpagecount", "kpageflags",
                          "kpagecgroup"].map { "/proc/" + $0 })
        XCTAssertTrue(Set(mountPoints).isSubset(of: allowed.union(guards)), "unexpected mounts: \(Set(mountPoints).subtracting(allowed.union(guards)))")
        // Control: the host has mounts the jail must not see.
        XCTAssertTrue(lines(readText("/proc/self/mountinfo")!).contains { $0.contains(" /sys ") || $0.contains(" /proc ") })
    }

    func test_rootInsideWithoutCapabilitiesCannotMountOrChroot() {
        let attempt = "/bin/mount -t tmpfs none /proc 2>&1 || echo mount-refused; /usr/sbin/chroot /usr /bin/true 2>&1 || echo chroot-refused"
        let r = Pit.run(["--user", "0", "--group", "0", "--", "/bin/sh", "-c", attempt])
        XCTAssertTrue(r.stdout.contains("mount-refused"), r.stdout)
        XCTAssertTrue(r.stdout.contains("chroot-refused"), r.stdout)
        // Control: with CAP_SYS_CHROOT kept, the same chroot works, so the refusal above is the dropped capability.
        let control = Pit.run(["--user", "0", "--group", "0", "--keep-caps", "CAP_SYS_CHROOT", "--", "/usr/sbin/chroot", "/", "/bin/true"])
        XCTAssertEqual(control.status, 0, control.stderr)
    }

    func test_writableMountsAreNosuidAndNodev() {
        let dir = ScratchDirectory()
        let r = Pit.run(["--bind-rw", "\(dir.path):/data", "--tmpfs", "/scratch", "--", "/bin/cat", "/proc/self/mountinfo"])
        for point in ["/data", "/scratch"] {
            guard let line = lines(r.stdout).first(where: { $0.split(separator: " ")[4] == point }) else {
                XCTFail("\(point) not mounted: \(r.stdout) \(r.stderr)"); continue
            }
            let options = line.split(separator: " ")[5].split(separator: ",")
            XCTAssertTrue(options.contains("nosuid") && options.contains("nodev"), line)
        }
    }

    func test_setuidBinaryGrantsNothingUnderNoNewPrivs() {
        // A setuid-root copy of id inside a writable bind: outside a jail it would report euid 0.
        let dir = ScratchDirectory()
        _ = Process.run(["/bin/cp", "/usr/bin/id", dir.path + "/id"])
        chmod(dir.path + "/id", 0o4755)
        let control = Process.run(["/usr/sbin/runuser", "-u", "nobody", "--", dir.path + "/id", "-u"])
        let jailed = Pit.run(["--bind-rw", "\(dir.path):/data", "--", "/data/id", "-u"])
        XCTAssertEqual(jailed.stdout, "65534\n", jailed.stderr)
        // The bind is nosuid as well, so either rule alone would stop it; the control shows the file really is setuid.
        XCTAssertEqual(control.stdout, "0\n", "control: \(control.stderr)")
    }

    func test_hostProcessesAreInvisibleAndUnkillable() {
        let r = Pit.run(["--user", "0", "--", "/bin/sh", "-c", "kill -0 \(getpid()) 2>/dev/null && echo reached || echo unreachable; ls /proc | grep '^[0-9]' | sort -n | tr '\\n' ' '"])
        // Only the jail's own processes (sh, ls, grep, sort, tr: PIDs 1 to 6) exist in its /proc.
        XCTAssertEqual(lines(r.stdout).first, "unreachable", r.stderr)
        let pids = (lines(r.stdout).last ?? "").split(separator: " ").compactMap { Int($0) }
        XCTAssertFalse(pids.isEmpty)
        XCTAssertTrue(pids.allSatisfy { $0 <= 6 }, "\(pids)")
    }
}
