// Launch latency of a jail from a process that is already running, the way `pit supervise` starts its
// jails: the spec and policy are resolved once, then each launch is Launcher.run on /bin/true (clone, the
// isolation sequence, exec, wait). `pit run` adds its own process start and option parsing to this;
// Tests/Benchmarks/launch.sh prints both next to bubblewrap.
//   launch-bench [RUNS] [POLICY-FILE]     prints each launch's time in microseconds, one per line
import Glibc
import PitJail

let arguments = CommandLine.arguments
let runs = arguments.count > 1 ? Int(arguments[1]) ?? 300 : 300
let policyFile = arguments.count > 2 ? arguments[2] : nil

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
