// Launch latency of a jail from a process that is already running, the way `pit supervise` starts its
// jails: the spec and policy are resolved once, then each launch is Launcher.run on /bin/true (clone, the
// isolation sequence, exec, wait). `pit run` adds its own process start and option parsing to this;
// Tests/Benchmarks/launch.sh prints both next to bubblewrap.
//   launch-bench [RUNS] [POLICY-FILE]     prints each launch's time in microseconds, one per line
//   launch-bench --interleave RUNS -- COMMAND... [::: COMMAND...]...
//                                         starts each command RUNS times, in a shuffled order every round so
//                                         that a drift of the machine's speed hits them all alike, and prints
//                                         "INDEX MICROSECONDS" per start: spawn, exec, and wait until the
//                                         command and every process it left behind have exited (this bench is
//                                         their subreaper), so work a launcher defers past its own exit counts.
//                                         A command may start with set-up words, done before its clock starts:
//                                         `{fd:N}PATH` opens PATH read-only as the command's fd N (bwrap's
//                                         --seccomp N reads its filter from there), `{rm}DIR` removes DIR's files
//                                         first (a cold policy cache), `{env}NAME=VALUE` adds to its environment
import CPitShim
import Glibc
import PitJail

let arguments = CommandLine.arguments

func fail(_ message: String, status: Int32 = 2) -> Never {
    let line = "launch-bench: " + message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(status)
}

func nanoseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}

/// Starts `argv` with standard output and error on /dev/null, waits for it and for any process it left behind
/// (adopted by this subreaper), returns the time taken in nanoseconds.
func timedSpawn(_ argv: [UnsafeMutablePointer<CChar>?], _ actions: inout posix_spawn_file_actions_t,
                environment: UnsafePointer<UnsafeMutablePointer<CChar>?>? = nil) -> Int64 {
    var pid: pid_t = 0
    let start = nanoseconds()
    let rc = argv.withUnsafeBufferPointer { posix_spawn(&pid, $0[0]!, &actions, nil, $0.baseAddress!, environment ?? UnsafePointer(environ)) }
    guard rc == 0 else { fail("cannot start \(String(cString: argv[0]!)): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    while waitpid(-1, nil, 0) > 0 || errno == EINTR {}   // until ECHILD: nothing of this start is left
    let elapsed = nanoseconds() - start
    guard status == 0 else { fail("\(String(cString: argv[0]!)) ended with wait status \(status)", status: 1) }
    return elapsed
}

if arguments.count > 3 && arguments[1] == "--interleave" && arguments[3] == "--" {
    guard let runs = Int(arguments[2]), runs > 0 else { fail("--interleave needs a number of runs") }
    var commands: [[UnsafeMutablePointer<CChar>?]] = [[]]
    var opens: [[(fd: Int32, path: String)]] = [[]]
    var emptied: [[String]] = [[]]
    var extraEnvironment: [[String]] = [[]]
    for word in arguments[4...] {
        if word == ":::" {
            commands.append([]); opens.append([]); emptied.append([]); extraEnvironment.append([])
        } else if commands[commands.count - 1].isEmpty, word.hasPrefix("{fd:"), let close = word.firstIndex(of: "}"),
                  let fd = Int32(word[word.index(word.startIndex, offsetBy: 4)..<close]) {
            opens[opens.count - 1].append((fd, String(word[word.index(after: close)...])))
        } else if commands[commands.count - 1].isEmpty, word.hasPrefix("{env}") {
            extraEnvironment[extraEnvironment.count - 1].append(String(word.dropFirst(5)))
        } else if commands[commands.count - 1].isEmpty, word.hasPrefix("{rm}") {
            emptied[emptied.count - 1].append(String(word.dropFirst(4)))
        } else {
            commands[commands.count - 1].append(strdup(word))
        }
    }
    for i in commands.indices {
        guard !commands[i].isEmpty else { fail("an empty command") }
        commands[i].append(nil)
    }
    var actions = [posix_spawn_file_actions_t](repeating: posix_spawn_file_actions_t(), count: commands.count)
    for i in commands.indices {
        posix_spawn_file_actions_init(&actions[i])
        posix_spawn_file_actions_addopen(&actions[i], 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions[i], 2, "/dev/null", O_WRONLY, 0)
        // Opened anew at each start: a reader such as bwrap --seccomp consumes the fd's offset.
        for (fd, path) in opens[i] { posix_spawn_file_actions_addopen(&actions[i], fd, path, O_RDONLY, 0) }
    }
    // Each command's environment: this one's, plus its {env} words, built once.
    var environments: [[UnsafeMutablePointer<CChar>?]] = []
    for extra in extraEnvironment {
        var list: [UnsafeMutablePointer<CChar>?] = []
        var index = 0
        while let variable = environ[index] { list.append(variable); index += 1 }
        for variable in extra { list.append(strdup(variable)) }
        list.append(nil)
        environments.append(list)
    }
    /// Removes the regular files directly in `directory` (the policy cache's entries), before the clock starts.
    func empty(_ directory: String) {
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { unlinkat(dirfd(dir), name, 0) }
        }
    }
    guard pit_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 else { fail("PR_SET_CHILD_SUBREAPER failed") }
    var order = Array(commands.indices)
    var generator = SystemRandomNumberGenerator()
    for round in 0..<(runs + 10) {
        order.shuffle(using: &generator)
        for index in order {
            for directory in emptied[index] { empty(directory) }
            let elapsed = environments[index].withUnsafeBufferPointer { timedSpawn(commands[index], &actions[index], environment: $0.baseAddress) }
            if round >= 10 { print(index, elapsed / 1000) }   // ten warm-up rounds, as hyperfine's warm-up
        }
    }
    exit(0)
}

let runs = arguments.count > 1 ? Int(arguments[1]) ?? 300 : 300
let policyFile = arguments.count > 2 ? arguments[2] : nil

var options = JailOptions()
options.user = Sourced("65534", origin: "launch-bench")
if let policyFile { options.policyFile = Sourced(policyFile, origin: "launch-bench") }
options.command = ["/bin/true"]
let resolved: ResolvedJail
do { resolved = try options.resolve() } catch { fail(error.description) }

var samples: [Int64] = []
for i in 0..<(runs + 20) {
    let start = nanoseconds()
    let outcome: JailOutcome
    do { outcome = try Launcher.run(resolved.spec, policy: resolved.policy) } catch { fail(error.description) }
    let elapsed = nanoseconds() - start
    guard outcome.exitStatus == 0 else { fail("/bin/true \(outcome.ending)", status: 1) }
    if i >= 20 { samples.append(elapsed / 1000) }   // the first launches warm the caches, as hyperfine's warm-up does
}
// For launch.sh: one launch time per line, in microseconds.
for sample in samples { print(sample) }
