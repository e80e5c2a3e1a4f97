import PitTestSupport
import Glibc
@testable import PitSupervisor
import XCTest

/// The Samba tree is written as root into directories a jail writes too (issue 16, item 4): nothing a jail
/// plants there may make the supervisor write, chmod or chown anything outside the tree, and loading a
/// config (`--check`, a reload) writes nothing at all.
final class SambaTreeTests: XCTestCase {
    /// A device config with a persona (share "finance" from decoys/) rendering into DIR/samba, and jails
    /// whose specs are `jails` (name -> spec text, DIR standing for the scratch directory).
    private func device(_ jails: [String: String] = [:]) -> ScratchDirectory {
        let dir = ScratchDirectory()
        dir.write("decoys/salaries.xlsx", "decoy payroll\n")
        dir.write("decoys/2026/q1.docx", "decoy report\n")
        writePersona(dir)
        var config = "persona = \"persona.toml\"\nsamba_root = \"samba\"\ndata_dir = \"\(dir.path)/data\"\ncontrol_socket = \"\(dir.path)/run/control.sock\"\n"
        for (name, spec) in jails.sorted(by: { $0.key < $1.key }) {
            dir.write("\(name).toml", spec.replacingAll("DIR", dir.path))
            config += "[[jails]]\nname = \"\(name)\"\nspec = \"\(name).toml\"\n"
        }
        dir.write("device.toml", config)
        return dir
    }

    private func load(_ dir: ScratchDirectory) throws -> DeviceConfig {
        do { return try DeviceConfig.load(dir.path + "/device.toml") } catch { XCTFail("\(error)"); throw error }
    }

    private func prepare(_ config: DeviceConfig) throws -> [String] {
        try SambaTree.prepare(config.persona!, root: config.sambaRoot!, port: 44_445, jails: config.jails.map(\.spec))
    }

    private func mode(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
    }

    private func owner(_ path: String) -> (uid_t, gid_t) {
        var st = stat()
        return lstat(path, &st) == 0 ? (st.st_uid, st.st_gid) : (UInt32.max, UInt32.max)
    }

    /// Each daemon's named-pipe directory is its own, 0700 (both check it at start): samba-dcerpcd's `ncalrpc/np`
    /// goes to that jail's root, smbd's `data/run/ncalrpc/np` stays in its data tree; both hold a placeholder per
    /// forwarded pipe. Without a jail serving `ncalrpc`, its np stays root's and searchable (smbd's jail binds from it).
    func test_namedPipeDirectoriesBelongToTheirDaemonsWithPlaceholders() throws {
        let dir = device(["dcerpcd": """
            command = ["/bin/true"]
            user = 0
            group = 0
            userns = true
            userns_range_start = 400000
            binds_rw = ["DIR/samba/ncalrpc:/data/run/ncalrpc"]
            """])
        defer { dir.remove() }
        _ = try prepare(try load(dir))
        let shared = dir.path + "/samba/ncalrpc/np", own = dir.path + "/samba/data/run/ncalrpc/np"
        XCTAssertEqual(mode(shared), 0o700)
        XCTAssertTrue(owner(shared) == (400_000, 400_000), "samba-dcerpcd's root")
        XCTAssertEqual(mode(own), 0o700)
        // The pipes smbd.toml binds, named here: a loop over SambaTree's own list would check nothing were it emptied.
        for pipe in SambaScratch.pipes {
            XCTAssertEqual(mode(shared + "/" + pipe), 0o600, pipe)
            XCTAssertEqual(mode(own + "/" + pipe), 0o600, pipe)
        }
        XCTAssertTrue((readText(dir.path + "/samba/etc/smb.conf") ?? "").contains("\trpc server dynamic port range = 49152-49159\n"))

        let alone = device()
        defer { alone.remove() }
        _ = try prepare(try load(alone))
        XCTAssertEqual(mode(alone.path + "/samba/ncalrpc/np"), 0o755, "no samba-dcerpcd: searchable for smbd's jail setup")
    }

    func test_restartWithNamesAnotherJail() throws {
        let dir = device(["a": "command = [\"/bin/true\"]\n"])
        defer { dir.remove() }
        let config = (readText(dir.path + "/device.toml") ?? "") + "restart_with = [\"b\"]\n"
        dir.write("device.toml", config)
        do {
            _ = try DeviceConfig.load(dir.path + "/device.toml")
            XCTFail("restart_with naming no jail was accepted")
        } catch {
            XCTAssertTrue(error.description.contains("restart_with: no jail named 'b'"), error.description)
        }
    }

    func test_restartWithCycleIsRefused_itWouldRestartTheJailsInTurnForever() throws {
        let dir = device(["a": "command = [\"/bin/true\"]\n", "b": "command = [\"/bin/true\"]\n",
                          "c": "command = [\"/bin/true\"]\n"])
        defer { dir.remove() }
        let base = readText(dir.path + "/device.toml") ?? ""
        // The jail tables are a, b, c in that order (device() sorts them): each gets its restart_with line.
        func with(_ a: String, _ b: String, _ c: String) -> String {
            var text = base
            for (name, list) in [("a", a), ("b", b), ("c", c)] where !list.isEmpty {
                text = text.replacingFirst("spec = \"\(name).toml\"\n", with: "spec = \"\(name).toml\"\nrestart_with = [\(list)]\n")
            }
            return text
        }
        dir.write("device.toml", with("\"c\"", "\"a\"", "\"b\""))
        do {
            _ = try DeviceConfig.load(dir.path + "/device.toml")
            XCTFail("a restart_with cycle a -> c -> b -> a was accepted")
        } catch {
            XCTAssertTrue(error.description.contains("restart_with: a -> c -> b -> a restart each other in a loop"), error.description)
        }
        // A chain without a loop (c restarts with b, b with a) and a diamond stay valid.
        dir.write("device.toml", with("", "\"a\"", "\"b\""))
        XCTAssertEqual(try load(dir).jails.map(\.restartWith), [[], ["a"], ["b"]])
        dir.write("device.toml", with("", "\"a\"", "\"a\", \"b\""))
        XCTAssertEqual(try load(dir).jails.map(\.restartWith), [[], ["a"], ["a", "b"]])
    }

    /// The attack from issue 16: smbd (root in its jail, data/ writable) replaces a decoy file with a symlink
    /// to a root-only file, and a directory the supervisor chmods with a symlink to a private directory. The
    /// next preparation (what a reload runs) must leave both targets exactly as they were.
    func test_symlinksPlantedInTheDataTreeAreNeverFollowed() throws {
        let dir = device()
        let config = try load(dir)
        try prepare(config)
        let share = dir.path + "/samba/data/shares/finance"
        XCTAssertEqual(readText(share + "/salaries.xlsx"), "decoy payroll\n")
        XCTAssertEqual(readText(share + "/2026/q1.docx"), "decoy report\n")

        let secret = dir.write("secret", "root only\n", mode: 0o600)
        chmod(secret, 0o600)
        mkdir(dir.path + "/private", 0o700)
        chmod(dir.path + "/private", 0o700)
        // A decoy file and the temporary name its copy is written to, both turned into links to the secret.
        unlink(share + "/salaries.xlsx")
        XCTAssertEqual(symlink(secret, share + "/salaries.xlsx"), 0)
        XCTAssertEqual(symlink(secret, share + "/2026/.q1.docx.pit-new"), 0)
        try prepare(config)
        XCTAssertEqual(readText(secret), "root only\n", "the secret was written through a planted link")
        XCTAssertEqual(mode(secret), 0o600)
        XCTAssertEqual(readText(share + "/salaries.xlsx"), "decoy payroll\n", "the link itself was replaced by the decoy")
        XCTAssertEqual(mode(share + "/salaries.xlsx"), 0o644)
        XCTAssertEqual(readText(share + "/2026/q1.docx"), "decoy report\n")

        // A directory the supervisor creates and chmods 0755, replaced by a link to a private directory.
        let lock = dir.path + "/samba/data/lock"
        XCTAssertEqual(rmdir(lock), 0)
        XCTAssertEqual(symlink(dir.path + "/private", lock), 0)
        XCTAssertThrowsError(try prepare(config)) { error in
            XCTAssertEqual((error as? SambaTreeError)?.path, lock, "\(error)")
            XCTAssertTrue("\(error)".contains("symlink"), "\(error)")
        }
        XCTAssertEqual(mode(dir.path + "/private"), 0o700, "the private directory was chmodded through the link")
        unlink(lock)

        // And a share's subdirectory, into which decoys are copied, replaced by a link to the private directory.
        let sub = share + "/2026"
        XCTAssertEqual(Process.run(["/bin/rm", "-rf", sub]).status, 0)
        XCTAssertEqual(symlink(dir.path + "/private", sub), 0)
        XCTAssertThrowsError(try prepare(config)) { error in
            XCTAssertEqual((error as? SambaTreeError)?.path, sub, "\(error)")
        }
        XCTAssertNil(readText(dir.path + "/private/q1.docx"), "a decoy was copied through the link")
        XCTAssertEqual(mode(dir.path + "/private"), 0o700)
    }

    /// Template entries that are neither regular files nor directories are skipped with a warning, and a link
    /// in the template is not followed (it could name anything on the host).
    func test_templateLinksAndSpecialFilesAreSkippedWithAWarning() throws {
        let dir = device()
        let secret = dir.write("secret", "root only\n", mode: 0o600)
        XCTAssertEqual(symlink(secret, dir.path + "/decoys/passwords.txt"), 0)
        XCTAssertEqual(mkfifo(dir.path + "/decoys/pipe", 0o644), 0)
        let warnings = try prepare(try load(dir))
        XCTAssertNil(readText(dir.path + "/samba/data/shares/finance/passwords.txt"))
        XCTAssertFalse(fileExists(dir.path + "/samba/data/shares/finance/pipe"))
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        XCTAssertTrue(warnings.allSatisfy { $0.contains("not a regular file or directory, skipped") }, "\(warnings)")
    }

    /// The decoys keep their templates' times: a listing shows the dates the templates carry (a report from
    /// March), for files and directories alike, also after a second preparation over the first (a reload).
    func test_decoysKeepTheirTemplatesModificationTimes() throws {
        let dir = device()
        func setTime(_ path: String, _ seconds: Int) {
            var times = [timespec(tv_sec: seconds - 3600, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 500_000_000)]
            XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0, path)
        }
        func mtime(_ path: String) -> Int {
            var st = stat()
            return lstat(path, &st) == 0 ? st.st_mtim.tv_sec : -1
        }
        setTime(dir.path + "/decoys/salaries.xlsx", 1_774_000_000)    // 2026-03-20
        setTime(dir.path + "/decoys/2026/q1.docx", 1_775_000_000)
        setTime(dir.path + "/decoys/2026", 1_775_100_000)
        setTime(dir.path + "/decoys", 1_775_200_000)
        let config = try load(dir)
        let share = dir.path + "/samba/data/shares/finance"
        for _ in 0..<2 {
            XCTAssertEqual(try prepare(config), [])
            XCTAssertEqual(mtime(share + "/salaries.xlsx"), 1_774_000_000)
            XCTAssertEqual(mtime(share + "/2026/q1.docx"), 1_775_000_000)
            XCTAssertEqual(mtime(share + "/2026"), 1_775_100_000, "a directory's time is set after its entries were copied into it")
            XCTAssertEqual(mtime(share), 1_775_200_000)
            XCTAssertEqual(readText(share + "/2026/q1.docx"), "decoy report\n")
        }
    }

    /// `pit supervise --check` validates without writing: the Samba root does not exist afterwards, although
    /// the jails' specs bind files in it (they are made at start).
    func test_checkWritesNothing() throws {
        var jails: [String: String] = [:]
        for daemon in ["smbd", "nmbd"] { jails[daemon] = SambaScratch.spec(daemon, root: "DIR/samba") }
        let dir = device(jails)
        let r = Process.run([Pit.executable, "supervise", "--check", "--config", dir.path + "/device.toml"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(fileExists(dir.path + "/samba"), "--check created the Samba tree")
        XCTAssertFalse(fileExists(dir.path + "/run"))
    }

    /// A jail in a user namespace (root inside = host uid range start) owns its writable binds inside the
    /// tree, all the way down, without any link being followed; what it only reads stays root's.
    func test_writableBindsOfAUserNamespaceJailAreHandedToItsHostIdentity() throws {
        let spec = """
            command = ["/bin/true"]
            userns = true
            userns_range_start = 300000
            user = 0
            group = 0
            binds = ["DIR/samba/etc/smb.conf:/etc/samba/smb.conf"]
            binds_rw = ["DIR/samba/data:/data"]
            """
        let dir = device(["smbd": spec])
        let config = try load(dir)
        try prepare(config)
        let data = dir.path + "/samba/data"
        for path in [data, data + "/lock", data + "/shares/finance", data + "/shares/finance/salaries.xlsx", data + "/shares/finance/2026/q1.docx"] {
            XCTAssertTrue(owner(path) == (300000, 300000), "\(path): \(owner(path))")
        }
        XCTAssertEqual(mode(data + "/shares/finance"), 0o755)
        XCTAssertTrue(owner(dir.path + "/samba/etc/smb.conf") == (0, 0))
        XCTAssertTrue(owner(dir.path + "/samba/data-nmbd") == (0, 0), "not this jail's bind")

        // Planted by the jail: a link to a root-owned file outside, and a hard link to one (same file system).
        let secret = dir.write("secret", "root only\n", mode: 0o600)
        XCTAssertEqual(symlink(secret, data + "/link"), 0)
        XCTAssertEqual(link(secret, data + "/hard"), 0)
        let warnings = try prepare(config)
        XCTAssertTrue(owner(secret) == (0, 0), "followed a link: \(owner(secret))")
        XCTAssertTrue(owner(data + "/link") == (300000, 300000), "the link itself is the jail's")
        XCTAssertTrue(warnings.contains { $0.contains("/hard: has 2 links") }, "\(warnings)")
    }

    /// A jail that filled its tree with files cannot make every start and reload walk them all: entries already
    /// the jail's are left alone, and the walk stops after TreeDirectory.maxEntriesWalked with a warning.
    func test_aJailsMillionFilesDoNotMakeEveryPreparationWalkThemAll() throws {
        let spec = """
            command = ["/bin/true"]
            userns = true
            userns_range_start = 300000
            user = 0
            group = 0
            binds_rw = ["DIR/samba/data:/data"]
            """
        let dir = device(["smbd": spec])
        let config = try load(dir)
        try prepare(config)
        let many = dir.path + "/samba/data/many"
        let count = TreeDirectory.maxEntriesWalked + 100
        XCTAssertEqual(Process.run(["/bin/sh", "-c", "mkdir \(many) && cd \(many) && seq \(count) | xargs touch"]).status, 0)
        let warnings = try prepare(config)
        XCTAssertTrue(warnings.contains { $0.contains("more than \(TreeDirectory.maxEntriesWalked) entries") }, "\(warnings)")
        // What an earlier preparation handed over stays the jail's.
        XCTAssertTrue(owner(dir.path + "/samba/data/lock") == (300000, 300000))
    }

    /// The same through a running supervisor: SIGHUP prepares the tree again; a link planted where a decoy
    /// file was is replaced, one where a directory belongs is a config_error naming it, nothing outside the
    /// tree changes, and the jails run on. (Own network and UTS namespaces: the persona is applied to them.)
    func test_reloadWithLinksPlantedInTheTreeFollowsNoneAndSaysWhere() throws {
        try XCTSkipUnless(fileExists("/usr/bin/unshare"), "needs util-linux's unshare")
        let h = SupervisorHarness()
        h.dir.write("decoys/salaries.xlsx", "decoy payroll\n")
        writePersona(h.dir)
        h.writeJail("svc", "exec sleep 1000")
        h.writeConfig("[[jails]]\nname = \"svc\"\nspec = \"svc.toml\"\nstop_grace_s = 1\n", top: "persona = \"persona.toml\"\nsamba_root = \"samba\"\n")
        h.start(prefix: ["/usr/bin/unshare", "--net", "--uts", "--"])
        XCTAssertTrue(waitUntil(5) { h.jail("svc")?.state == "running" }, h.log)
        let pid = h.jail("svc")?.pid
        let share = h.dir.path + "/samba/data/shares/finance"
        XCTAssertEqual(readText(share + "/salaries.xlsx"), "decoy payroll\n", h.log)

        let secret = h.dir.write("secret", "root only\n", mode: 0o600)
        unlink(share + "/salaries.xlsx")
        XCTAssertEqual(symlink(secret, share + "/salaries.xlsx"), 0)
        kill(h.pid, SIGHUP)
        // The config is the same: nothing is recorded, but the tree is prepared again.
        XCTAssertTrue(waitUntil(5) { h.statusOrNil()?.reloads.unchanged == 1 }, h.log)
        XCTAssertEqual(readText(secret), "root only\n")
        XCTAssertEqual(mode(secret), 0o600)
        XCTAssertEqual(readText(share + "/salaries.xlsx"), "decoy payroll\n")

        mkdir(h.dir.path + "/private", 0o700)
        chmod(h.dir.path + "/private", 0o700)
        let lock = h.dir.path + "/samba/data/lock"
        XCTAssertEqual(rmdir(lock), 0)
        XCTAssertEqual(symlink(h.dir.path + "/private", lock), 0)
        kill(h.pid, SIGHUP)
        let line = "config_error: samba tree \(lock): is a symlink where a directory belongs: not followed"
        XCTAssertTrue(waitUntil(5) { h.log.contains(line) }, h.log)
        XCTAssertEqual(mode(h.dir.path + "/private"), 0o700)
        XCTAssertEqual(h.jail("svc")?.pid, pid, "a jail that does not bind the tree runs on")
        XCTAssertEqual(h.stop(), 0, h.log)
    }

    /// samba-dcerpcd's sockets from its last run are removed before it starts again, and the pipe server is
    /// ready for smbd only once every forwarded pipe is a socket again: smbd never binds a stale or missing one.
    func test_stalePipeSocketsAreRemovedAndReadinessWaitsForNewOnes() throws {
        let dir = ScratchDirectory()
        let root = dir.path + "/samba"
        let np = dir.makeDirectory("samba/ncalrpc/np")
        XCTAssertFalse(SambaTree.pipesServed(root: root))
        func makeSocket(_ path: String) -> Int32 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            XCTAssertEqual(bound, 0, path)
            return fd
        }
        let old = SambaTree.forwardedPipes.map { makeSocket(np + "/" + $0) }
        defer { old.forEach { close($0) } }
        XCTAssertTrue(SambaTree.pipesServed(root: root))
        SambaTree.removeStalePipes(root: root)
        XCTAssertFalse(SambaTree.pipesServed(root: root), "the last run's sockets still count")
        for pipe in SambaTree.forwardedPipes { XCTAssertFalse(fileExists(np + "/" + pipe), pipe) }
        let fresh = SambaTree.forwardedPipes.dropLast().map { makeSocket(np + "/" + $0) }
        defer { fresh.forEach { close($0) } }
        XCTAssertFalse(SambaTree.pipesServed(root: root), "ready with a pipe missing")
        let last = makeSocket(np + "/" + SambaTree.forwardedPipes.last!)
        defer { close(last) }
        XCTAssertTrue(SambaTree.pipesServed(root: root))
        // A regular file where a socket belongs (the placeholder prepare writes) is not a served pipe.
        unlink(np + "/" + SambaTree.forwardedPipes[0])
        dir.write("samba/ncalrpc/np/" + SambaTree.forwardedPipes[0], "")
        XCTAssertFalse(SambaTree.pipesServed(root: root))
        SambaTree.removeStalePipes(root: root)
        XCTAssertTrue(fileExists(np + "/" + SambaTree.forwardedPipes[0]), "only sockets are removed")
    }
}
